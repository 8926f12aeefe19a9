import Hummingbird

/// Every failure of the API leaves as `{"detail": …}` (docs/reference.md, "Errors"): the framework's own errors
/// keep their status, and anything else (a store that does not answer) becomes 503.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as HTTPError {
            throw APIError(error.status, error.body ?? error.status.reasonPhrase)
        } catch {
            throw APIError(.serviceUnavailable, "the store did not answer: \(error)")
        }
    }
}
