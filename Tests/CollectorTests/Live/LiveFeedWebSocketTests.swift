import Foundation
import Hummingbird
import HummingbirdTesting
import HummingbirdWebSocket
import LedgerTestSupport
import Testing

@testable import Collector

/// `/ws` over a real socket: calls arrive as `/explain` shapes, the key is checked in the first message only.
@Suite struct LiveFeedWebSocketTests {
    /// Runs `body` with the port of a live server whose WebSocket router serves `feed` on `/ws`.
    static func withServer(
        _ feed: LiveFeed, key: String? = nil, _ body: @escaping @Sendable (Int) async throws -> Void
    ) async throws {
        let webSockets = Router(context: BasicWebSocketRequestContext.self)
        feed.addRoute(to: webSockets, apiKey: APIKey(secret: key))
        let app = Application(
            router: Router(), server: .http1WebSocketUpgrade(webSocketRouter: webSockets),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: Integration.logger)
        try await app.test(.live) { client in
            try await body(try #require(client.port))
        }
    }

    static func object(_ frame: WebSocketTestClient.Frame?) throws -> [String: Any] {
        guard case .text(let text) = frame else {
            throw Integration.TimedOut(what: "a text frame, got \(String(describing: frame))")
        }
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    static func record(_ id: String) -> CallRecord {
        var record = CallRecord(actionID: id, timestampMicros: 1_775_217_600_000_000)
        record.sessionID = "s1"
        record.content = "<script>window.__xss=1</script>"
        record.toolResults = [ToolResult(toolCallID: "t1", content: .string("ok"))]
        return record
    }

    @Test func callsArriveAsTheExplainShapeWithAType() async throws {
        let feed = LiveFeed()
        try await Self.withServer(feed) { port in
            try await WebSocketTestClient.withConnection(port: port) { client in
                try await client.send(text: #"{"type":"auth","key":""}"#)
                #expect(try Self.object(try await client.receive())["type"] as? String == "ready")
                feed.publish([Self.record("a1")])
                var message = try Self.object(try await client.receive())
                #expect(message.removeValue(forKey: "type") as? String == "call")
                let expected = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(Self.record("a1")))
                let explain = try #require(expected as? [String: Any])
                #expect(Set(message.keys) == Set(explain.keys))
                #expect(message["action_id"] as? String == "a1")
                #expect(message["content"] as? String == "<script>window.__xss=1</script>")
                #expect(message["timestamp"] as? String == explain["timestamp"] as? String)
                let results = try #require(message["tool_results"] as? [[String: Any]])
                #expect(results.first?["tool_call_id"] as? String == "t1")
            }
        }
    }

    @Test func theKeyIsCheckedInTheFirstMessage() async throws {
        let feed = LiveFeed()
        try await Self.withServer(feed, key: "s3cret") { port in
            try await WebSocketTestClient.withConnection(port: port) { client in
                try await client.send(text: #"{"type":"auth","key":"s3cret"}"#)
                #expect(try Self.object(try await client.receive())["type"] as? String == "ready")
                feed.publish([Self.record("a2")])
                #expect(try Self.object(try await client.receive())["action_id"] as? String == "a2")
            }
        }
    }

    @Test func aWrongOrMissingKeyClosesWithPolicyViolation() async throws {
        let feed = LiveFeed()
        try await Self.withServer(feed, key: "s3cret") { port in
            for first in [#"{"type":"auth","key":"wrong"}"#, #"{"type":"hello"}"#, "s3cret"] {
                try await WebSocketTestClient.withConnection(port: port) { client in
                    try await client.send(text: first)
                    #expect(try await client.receive() == .close(code: 1008), "\(first)")
                }
            }
            #expect(feed.subscriberCount == 0)
        }
    }

    @Test func aKeyInTheURLIsIgnored() async throws {
        let feed = LiveFeed()
        try await Self.withServer(feed, key: "s3cret") { port in
            try await WebSocketTestClient.withConnection(port: port, path: "/ws?key=s3cret&api_key=s3cret") { client in
                try await client.send(text: #"{"type":"auth","key":""}"#)
                #expect(try await client.receive() == .close(code: 1008))
            }
        }
    }

    @Test func aClientThatLeavesIsUnsubscribed() async throws {
        let feed = LiveFeed()
        try await Self.withServer(feed) { port in
            try await WebSocketTestClient.withConnection(port: port) { client in
                try await client.send(text: #"{"type":"auth","key":""}"#)
                _ = try await client.receive()
                #expect(feed.subscriberCount == 1)
            }
            #expect(await Integration.eventually { feed.subscriberCount == 0 })
        }
    }

    @Test func aMissedCountIsAMessageOfItsOwn() {
        #expect(LiveFeed.message(.missed(7)) == #"{"type":"missed","count":7}"#)
        #expect(LiveFeed.message(.call(Self.record("a3"))).hasPrefix(#"{"type":"call","action_id":"a3","#))
    }
}
