import Foundation
import MCP
import Synchronization

/// The Streamable HTTP sessions of `/mcp`: one SDK `Server` and `StatefulHTTPServerTransport` per client, made by
/// an `initialize` POST and found again by its `MCP-Session-Id` header (docs/operations.md, "MCP"). Each request's
/// answer is an SSE stream that ends with its response; GET (a standalone stream) is 405.
///
/// Bounded: at most `limits.maxSessions` at once (a new one beyond is 503), each ended after `limits.idle` without a
/// request, and after `limits.maxSessionBytes` of answers (the transport keeps every answer it sent for replay, so
/// that is its memory); an ended session's next request gets 404, and the client starts a new one.
package actor MCPSessions {
    package struct Limits: Sendable {
        package var maxSessions = 64
        package var idle: Duration = .seconds(30 * 60)
        package var maxSessionBytes = 64 << 20

        package init() {}
    }

    /// Bytes a session's answers have carried, counted as they stream out.
    package final class ByteCount: Sendable {
        private let bytes = Mutex(0)

        package func add(_ count: Int) { bytes.withLock { $0 = $0 &+ count } }
        package var value: Int { bytes.withLock { $0 } }
    }

    /// An answer, with the counter its streamed body adds to (nil when the answer is no session's).
    package struct Answer: Sendable {
        package var response: MCP.HTTPResponse
        package var bytes: ByteCount?
    }

    private struct Entry {
        let server: Server
        let transport: StatefulHTTPServerTransport
        var lastUsed: ContinuousClock.Instant
        let bytes = ByteCount()
    }

    private let limits: Limits
    private let makeServer: @Sendable () async -> Server
    private var entries: [String: Entry] = [:]
    /// Sessions being made (counted against `maxSessions` while their `initialize` runs).
    private var starting = 0

    /// The checks every request passes after `Host`, `Origin` and the API key (done by the collector's middleware):
    /// what the client accepts, the body's type, `MCP-Protocol-Version`, and the session id.
    private static let validation = StandardValidationPipeline(validators: [
        AcceptHeaderValidator(mode: .sseRequired), ContentTypeValidator(), ProtocolVersionValidator(), SessionValidator(),
    ])

    package init(limits: Limits = Limits(), makeServer: @escaping @Sendable () async -> Server) {
        self.limits = limits
        self.makeServer = makeServer
    }

    package var count: Int { entries.count }

    package func handle(_ request: MCP.HTTPRequest) async -> Answer {
        await sweep()
        // The transport could hold a GET event stream open per session, but this server never sends a message of its
        // own (the tools are fixed, nothing is pushed), so the stream would carry nothing while it held a connection
        // open per assistant and, in `up`, held the proxy's graceful shutdown until its deadline. The spec's answer
        // for a server without that stream is 405.
        if request.method.uppercased() == "GET" {
            return Answer(
                response: .error(
                    statusCode: 405, .invalidRequest("Method Not Allowed: this server pushes no messages; POST requests"),
                    extraHeaders: [HTTPHeaderName.allow: "POST, DELETE"]))
        }
        if let id = request.header(HTTPHeaderName.sessionID) {
            guard var entry = entries[id] else {
                return Answer(
                    response: .error(statusCode: 404, .invalidRequest("Not Found: no such session (it ended or expired)")))
            }
            entry.lastUsed = .now
            entries[id] = entry
            let response = await entry.transport.handleRequest(request)
            if request.method.uppercased() == "DELETE", response.statusCode == 200 { await end(id) }
            return Answer(response: response, bytes: entry.bytes)
        }
        guard request.method.uppercased() == "POST", Self.isInitialize(request.body) else {
            return Answer(
                response: .error(
                    statusCode: 400, .invalidRequest("Bad Request: Mcp-Session-Id header is required (initialize first)")))
        }
        guard entries.count + starting < limits.maxSessions else {
            return Answer(
                response: .error(
                    statusCode: 503, .internalError("Service Unavailable: \(limits.maxSessions) MCP sessions are open")))
        }
        starting += 1
        defer { starting -= 1 }
        let transport = StatefulHTTPServerTransport(validationPipeline: Self.validation)
        let server = await makeServer()
        do {
            try await server.start(transport: transport)
        } catch {
            return Answer(response: .error(statusCode: 500, .internalError("cannot start the MCP server: \(error)")))
        }
        let response = await transport.handleRequest(request)
        guard response.statusCode == 200, let id = response.headers[HTTPHeaderName.sessionID] else {
            await server.stop()
            return Answer(response: response)
        }
        let entry = Entry(server: server, transport: transport, lastUsed: .now)
        entries[id] = entry
        return Answer(response: response, bytes: entry.bytes)
    }

    /// Ends every session (at shutdown).
    package func endAll() async {
        for id in Array(entries.keys) { await end(id) }
    }

    private func end(_ id: String) async {
        guard let entry = entries.removeValue(forKey: id) else { return }
        await entry.server.stop()
    }

    /// Ends sessions idle for `limits.idle` or past `limits.maxSessionBytes`.
    private func sweep() async {
        let cutoff = ContinuousClock.now - limits.idle
        let ended = entries.filter { $0.value.lastUsed < cutoff || $0.value.bytes.value > limits.maxSessionBytes }
        for id in ended.keys { await end(id) }
    }

    /// Whether a POST body is a JSON-RPC `initialize` request (a session's first message).
    private static func isInitialize(_ body: Data?) -> Bool {
        guard let body, let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else { return false }
        return object["method"] as? String == "initialize" && object["id"] != nil
    }
}
