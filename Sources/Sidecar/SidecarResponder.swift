import Hummingbird
import NIOCore

/// The standalone sidecar's responder: its own metrics on one reserved path, every other request proxied.
package struct SidecarResponder<Context: RequestContext>: HTTPResponder {
    let proxy: ProxyResponder<Context>

    package init(proxy: ProxyResponder<Context>) {
        self.proxy = proxy
    }

    package func respond(to request: Request, context: Context) async throws -> Response {
        if request.method == .get && request.uri.path == SidecarMetrics.path {
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: ResponseBody(
                    byteBuffer: ByteBuffer(string: SidecarMetrics.prometheusText(proxy.shipper, admission: proxy.admission))))
        }
        return try await proxy.respond(to: request, context: context)
    }
}
