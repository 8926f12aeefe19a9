import Foundation
import HTTPTypes
import Hummingbird
import MCP
import NIOCore
import ServiceLifecycle

/// Mounts `/mcp` (POST, DELETE to end a session, GET answered 405) on the collector's router, after
/// its `Host`/`Origin` and API-key middleware, and translates between Hummingbird and the SDK's transport types.
package struct MCPRoutes: Sendable {
    package let sessions: MCPSessions
    /// A POST body larger than this is refused with 413 before it is parsed.
    package var maxBodyBytes = 1 << 20

    package init(sessions: MCPSessions) {
        self.sessions = sessions
    }

    package func addRoutes<Context: Hummingbird.RequestContext>(to router: Router<Context>) {
        for method in [HTTPRequest.Method.post, .get, .delete] {
            router.on("mcp", method: method) { request, _ in try await handle(request) }
        }
    }

    func handle(_ request: Request) async throws -> Response {
        var body: Data?
        if request.method == .post {
            let buffer: ByteBuffer
            do {
                buffer = try await request.body.collect(upTo: maxBodyBytes)
            } catch {
                throw APIError(.contentTooLarge, "an MCP message is at most \(maxBodyBytes) bytes")
            }
            body = Data(buffer.readableBytesView)
        }
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            headers[name] = headers[name].map { "\($0), \(field.value)" } ?? field.value
        }
        let answer = await sessions.handle(
            MCP.HTTPRequest(method: request.method.rawValue, headers: headers, body: body, path: request.uri.path))
        return response(answer)
    }

    func response(_ answer: MCPSessions.Answer) -> Response {
        let response = answer.response
        var fields = HTTPFields()
        // `Connection` is hop-by-hop: the server (and in `up` the proxy in front of it) decides it.
        for (name, value) in response.headers where name.lowercased() != "connection" {
            guard let name = HTTPField.Name(name) else { continue }
            fields[name] = value
        }
        fields[.cacheControl] = fields[.cacheControl] ?? "no-store"
        let status = HTTPResponse.Status(code: response.statusCode)
        if case .stream(let stream, _) = response {
            let counter = answer.bytes
            return Response(
                status: status, headers: fields,
                body: ResponseBody { writer in
                    // An answer's stream ends with its response; at shutdown every session ends at once, which ends
                    // the streams of requests still running, so the server does not wait for slow tools.
                    try await withGracefulShutdownHandler {
                        for try await chunk in stream {
                            counter?.add(chunk.count)
                            try await writer.write(ByteBuffer(bytes: chunk))
                        }
                    } onGracefulShutdown: {
                        Task { await sessions.endAll() }
                    }
                    try await writer.finish(nil)
                })
        }
        let data = response.bodyData ?? Data()
        answer.bytes?.add(data.count)
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
