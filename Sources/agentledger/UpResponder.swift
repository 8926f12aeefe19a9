import Collector
import Hummingbird
import Sidecar

/// `agentledger up` serves the API and the proxy on one port: API paths go to the router, everything else upstream.
struct UpResponder: HTTPResponder {
    let api: RouterResponder<BasicRequestContext>
    let proxy: ProxyResponder<BasicRequestContext>

    func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
        if CollectorAPI.owns(path: request.uri.path) {
            return try await api.respond(to: request, context: context)
        }
        return try await proxy.respond(to: request, context: context)
    }
}
