import HTTPTypes
import Hummingbird

/// Applies `HostOriginPolicy` to every route but the probes (`/healthz`, `/readyz`): a refused request gets
/// `403 {"detail": ...}` naming the setting that would allow it, and is counted in `AccessCounters`.
///
/// Add it to the router before any route: Hummingbird applies middleware only to routes added after it.
package struct HostOriginMiddleware<Context: RequestContext>: RouterMiddleware {
    let policy: HostOriginPolicy
    let counters: AccessCounters

    package init(policy: HostOriginPolicy, counters: AccessCounters) {
        self.policy = policy
        self.counters = counters
    }

    package func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        guard !APIKeyMiddleware<Context>.probePaths.contains(request.uri.path),
            let refusal = policy.refusal(request)
        else { return try await next(request, context) }
        counters.add(refusal)
        return try JSONResponse.make(
            ["detail": refusal.message], status: .forbidden,
            headers: [.cacheControl: "no-store", .xContentTypeOptions: "nosniff"])
    }
}

extension HostOriginPolicy {
    /// The refusal for a request's `Host` (its authority) and first `Origin` header, nil when it may be served.
    package func refusal(_ request: Request) -> Refusal? {
        refusal(host: request.head.authority, origin: request.headers[.origin])
    }
}
