import Hummingbird

/// Records every request except `GET /debug/last-request` itself, body included, before routing it.
struct LastRequestMiddleware<Context: RequestContext>: RouterMiddleware {
    let store: LastRequestStore

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard request.uri.path != MockUpstream.lastRequestPath else {
            return try await next(request, context)
        }
        var request = request
        let body = try await request.collectBody(upTo: MockUpstream.maxBodyBytes)
        await store.record(request, body: body)
        return try await next(request, context)
    }
}
