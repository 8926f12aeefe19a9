import Foundation
import LedgerTestSupport
import MCP
import Testing

@testable import Collector

/// The Streamable HTTP sessions of `/mcp` without sockets: a session per `initialize`, found by its id, ended by
/// DELETE; the session cap, unknown ids and missing ids answered as the transport's spec says.
@Suite struct MCPSessionsTests {
    static let headers = ["Accept": "application/json, text/event-stream", "Content-Type": "application/json"]

    static func sessions(
        maxSessions: Int = 64, idle: Duration = .seconds(1800), maxSessionBytes: Int = 64 << 20
    ) async throws -> (MCPSessions, @Sendable () async throws -> Void) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agentledger-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try await SQLiteStore.open(path: directory.appendingPathComponent("t.db").path, logger: Integration.logger)
        try await store.migrate()
        let tools = MCPTools(store: store, budgets: .configured(EnforcementPolicy()))
        var limits = MCPSessions.Limits()
        limits.maxSessions = maxSessions
        limits.idle = idle
        limits.maxSessionBytes = maxSessionBytes
        let sessions = MCPSessions(limits: limits) { await MCPServerFactory.make(tools: tools, version: "test") }
        return (
            sessions,
            {
                await sessions.endAll()
                try await store.close()
                try? FileManager.default.removeItem(at: directory)
            }
        )
    }

    static func post(_ body: String, session: String? = nil) -> MCP.HTTPRequest {
        var headers = Self.headers
        if let session { headers[HTTPHeaderName.sessionID] = session }
        return MCP.HTTPRequest(method: "POST", headers: headers, body: Data(body.utf8), path: "/mcp")
    }

    static let initialize =
        #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#

    /// The whole SSE body of a streamed answer (it ends once the request's response is sent).
    static func text(_ response: MCP.HTTPResponse) async throws -> String {
        guard case .stream(let stream, _) = response else { return String(decoding: response.bodyData ?? Data(), as: UTF8.self) }
        let box = UncheckedStream(stream: stream)
        return try await Integration.within(.seconds(10), "the answer's stream") {
            var text = ""
            for try await chunk in box.stream { text += String(decoding: chunk, as: UTF8.self) }
            return text
        }
    }

    struct UncheckedStream: @unchecked Sendable {
        let stream: AsyncThrowingStream<Data, any Error>
    }

    @Test func aSessionIsMadeByInitializeFoundByItsIDAndEndedByDelete() async throws {
        let (sessions, close) = try await Self.sessions()
        let opened = await sessions.handle(Self.post(Self.initialize))
        #expect(opened.response.statusCode == 200)
        let id = try #require(opened.response.headers[HTTPHeaderName.sessionID])
        #expect(try await Self.text(opened.response).contains(#""protocolVersion":"2025-11-25""#))
        #expect(await sessions.count == 1)

        let listed = await sessions.handle(Self.post(#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#, session: id))
        let text = try await Self.text(listed.response)
        #expect(text.contains(#""name":"explain""#) && text.contains(#""readOnlyHint":true"#))
        #expect(listed.bytes != nil, "the route counts the bytes of the session's answers")

        let called = await sessions.handle(
            Self.post(
                #"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"explain","arguments":{"action_id":"x"}}}"#,
                session: id))
        let answer = try await Self.text(called.response)
        #expect(answer.contains(#""isError":true"#) && answer.contains("no call with action_id x"))

        let get = MCP.HTTPRequest(method: "GET", headers: [HTTPHeaderName.sessionID: id, "Accept": "text/event-stream"])
        let refused = await sessions.handle(get).response
        #expect(refused.statusCode == 405, "no standalone event stream: nothing is ever pushed")
        #expect(refused.headers[HTTPHeaderName.allow] == "POST, DELETE")

        var delete = MCP.HTTPRequest(method: "DELETE", headers: [HTTPHeaderName.sessionID: id], path: "/mcp")
        #expect(await sessions.handle(delete).response.statusCode == 200)
        #expect(await sessions.count == 0)
        delete = MCP.HTTPRequest(method: "DELETE", headers: [HTTPHeaderName.sessionID: id], path: "/mcp")
        #expect(await sessions.handle(delete).response.statusCode == 404, "an ended session is unknown")
        try await close()
    }

    @Test func requestsWithoutAUsableSessionAreRefused() async throws {
        let (sessions, close) = try await Self.sessions(maxSessions: 1)
        let list = #"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#
        #expect(await sessions.handle(Self.post(list)).response.statusCode == 400, "no id, not initialize")
        #expect(await sessions.handle(Self.post(list, session: "made-up")).response.statusCode == 404)
        #expect(await sessions.handle(Self.post("not json")).response.statusCode == 400)
        let first = await sessions.handle(Self.post(Self.initialize))
        #expect(first.response.statusCode == 200)
        _ = try await Self.text(first.response)
        #expect(await sessions.handle(Self.post(Self.initialize)).response.statusCode == 503, "one session at most")
        var jsonOnly = Self.post(Self.initialize)
        jsonOnly = MCP.HTTPRequest(
            method: "POST", headers: ["Accept": "application/json", "Content-Type": "application/json"], body: jsonOnly.body)
        await sessions.endAll()
        #expect(await sessions.handle(jsonOnly).response.statusCode == 406, "the client must accept the event stream")
        try await close()
    }

    @Test func aSessionEndsWhenIdleOrPastItsBytes() async throws {
        let list = #"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#
        let (idle, closeIdle) = try await Self.sessions(idle: .milliseconds(200))
        let opened = await idle.handle(Self.post(Self.initialize))
        let id = try #require(opened.response.headers[HTTPHeaderName.sessionID])
        _ = try await Self.text(opened.response)
        try await Task.sleep(for: .milliseconds(400))
        #expect(await idle.handle(Self.post(list, session: id)).response.statusCode == 404, "idle past the limit")
        #expect(await idle.count == 0)
        try await closeIdle()

        let (heavy, closeHeavy) = try await Self.sessions(maxSessionBytes: 1000)
        let first = await heavy.handle(Self.post(Self.initialize))
        let heavyID = try #require(first.response.headers[HTTPHeaderName.sessionID])
        _ = try await Self.text(first.response)
        let listed = await heavy.handle(Self.post(list, session: heavyID))
        #expect(listed.response.statusCode == 200)
        listed.bytes?.add(try await Self.text(listed.response).utf8.count)  // as the route counts what it streams
        #expect(await heavy.handle(Self.post(list, session: heavyID)).response.statusCode == 404, "past its bytes")
        try await closeHeavy()
    }
}
