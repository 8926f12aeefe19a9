import Foundation
import Hummingbird
import HummingbirdTesting

@testable import Collector

/// A test client of the collector's API with the export routes, on a fresh SQLite store holding some records.
enum ExportTesting {
    static let fixedNow: Int64 = 1_775_000_000_000_000

    static func withAPI(
        _ records: [CallRecord], hmacKey: String? = nil, apiKey: APIKey? = nil,
        _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        try await StoreKind.sqlite.withStore { store in
            _ = try await store.insert(records)
            let router = Router()
            if let apiKey { router.add(middleware: APIKeyMiddleware(key: apiKey)) }
            CollectorAPI(store: store, counters: CollectorCounters()).addRoutes(to: router)
            ExportRoutes(store: store, hmacKey: hmacKey, version: "9.9.9", now: { fixedNow }).addRoutes(to: router)
            try await Application(router: router).test(.router, body)
        }
    }

    /// Two calls of session `s1` whose text is hostile to HTML and whose numbers are awkward for canonical JSON.
    static var session: [CallRecord] {
        var first = CallRecord.stored("c1", at: 1_000_000, cost: 0.00001)
        first.systemPrompt = #"You are <b>"helpful"</b> & 'kind'"#
        first.messages = [
            .object(["role": .string("user"), "content": .string("<script>alert(\"pwned\")</script> & café \u{1}")]),
            .object([
                "role": .string("user"),
                "content": .array([.object(["type": .string("text"), "text": .string("big 12345678901234567890")])]),
            ]),
        ]
        first.temperature = 0.7
        first.latencyMS = 12.345
        first.content = "</pre><img src=x onerror=alert(1)>"
        var second = CallRecord.stored("c2", at: 2_000_000, cost: 1e-7, status: 500)
        second.errorDetail = "<iframe src=\"https://evil.example\">"
        second.agentName = "<svg onload=alert(2)>"
        second.toolResults = [ToolResult(toolCallID: "call_1", content: .object(["temp": .double(18.25)]))]
        second.tools = .array([.object(["n": .double(1e21), "m": .double(0.000001), "k": .int(Int64.max)])])
        return [first, second]
    }

    static func string(_ response: TestResponse) -> String { String(buffer: response.body) }
    static func bytes(_ response: TestResponse) -> [UInt8] { Array(buffer: response.body) }
}
