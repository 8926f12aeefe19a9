import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Collector

/// `/api/sessions`, `/api/search` and `/api/stats` over HTTP on a SQLite store: parameters, errors and shapes.
@Suite struct CollectorAPITests {
    /// Runs `body` with a test client of the API on a fresh SQLite store holding `records`.
    static func withAPI(_ records: [CallRecord], _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void)
        async throws
    {
        try await StoreKind.sqlite.withStore { store in
            _ = try await store.insert(records)
            let router = Router()
            CollectorAPI(store: store, counters: CollectorCounters()).addRoutes(to: router)
            try await Application(router: router).test(.router, body)
        }
    }

    static func json(_ response: TestResponse) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(buffer: response.body), options: [.fragmentsAllowed])
    }

    /// Asserts `uri` answers 400 with a detail that names `parameter`.
    static func expectBadRequest(_ client: any TestClientProtocol, _ uri: String, naming parameter: String) async throws {
        let detail = try await client.execute(uri: uri, method: .get) { response in
            #expect(response.status == .badRequest, "\(uri)")
            return (try json(response) as? [String: Any])?["detail"] as? String ?? ""
        }
        #expect(detail.contains(parameter), "\(uri): \(detail)")
    }

    static let sessions: [CallRecord] = (0..<3).map { index in
        var call = CallRecord.stored("c\(index)", session: "s\(index)", at: Int64(index) * 60_000_000)
        call.appID = index == 1 ? "billing" : "web"
        call.content = "answer number \(index) from Zürich"
        return call
    }

    @Test func sessionsPageWithTheTotalInAHeader() async throws {
        try await Self.withAPI(Self.sessions) { client in
            try await client.execute(uri: "/api/sessions?limit=2&offset=1", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[HTTPField.Name("X-Total-Count")!] == "3")
                let rows = try #require(try Self.json(response) as? [[String: Any]])
                #expect(rows.map { $0["session_id"] as? String } == ["s1", "s0"])
            }
            try await client.execute(uri: "/api/sessions?app=billing&since=60&until=1970-01-01T00:01:00Z", method: .get) {
                response in
                #expect(response.headers[HTTPField.Name("X-Total-Count")!] == "1")
            }
            try await client.execute(uri: "/api/sessions?limit=1000", method: .get) { response in
                #expect(response.status == .ok, "a limit above 500 is capped, not refused")
            }
        }
    }

    @Test func badParametersAreNamedInA400() async throws {
        try await Self.withAPI([]) { client in
            try await Self.expectBadRequest(client, "/api/sessions?limit=many", naming: "limit")
            try await Self.expectBadRequest(client, "/api/sessions?limit=0", naming: "limit")
            try await Self.expectBadRequest(client, "/api/sessions?offset=-1", naming: "offset")
            try await Self.expectBadRequest(client, "/api/sessions?since=yesterday", naming: "since")
            try await Self.expectBadRequest(client, "/api/sessions?since=20&until=10", naming: "since")
            try await Self.expectBadRequest(client, "/api/search", naming: "q")
            try await Self.expectBadRequest(client, "/api/search?q=+++", naming: "q")
            try await Self.expectBadRequest(client, "/api/search?q=x&limit=-3", naming: "limit")
            try await Self.expectBadRequest(client, "/api/stats?bucket=week", naming: "bucket")
            try await Self.expectBadRequest(client, "/api/stats?until=tomorrow", naming: "until")
            try await Self.expectBadRequest(client, "/api/stats?since=0&until=31536000&bucket=minute", naming: "bucket")
        }
    }

    @Test func searchAnswersRecordsNewestFirst() async throws {
        try await Self.withAPI(Self.sessions) { client in
            try await client.execute(uri: "/api/search?q=Z%C3%BCrich+answer&limit=2", method: .get) { response in
                #expect(response.status == .ok)
                let rows = try #require(try Self.json(response) as? [[String: Any]])
                #expect(rows.map { $0["action_id"] as? String } == ["c2", "c1"])
                #expect(rows.first?["content"] as? String == "answer number 2 from Zürich")
                #expect(rows.first?.keys.contains("tool_results") == true, "the shape of /session")
            }
            try await client.execute(uri: "/api/search?q=%25", method: .get) { response in
                #expect(response.status == .ok)
                let rows = try Self.json(response) as? [Any]
                #expect(rows?.isEmpty == true, "% matches nothing, not everything")
            }
        }
    }

    @Test func statsHaveTheDocumentedShape() async throws {
        try await Self.withAPI(Self.sessions) { client in
            try await client.execute(uri: "/api/stats?since=0&until=1970-01-01T01:00:00Z&bucket=minute", method: .get) {
                response in
                #expect(response.status == .ok)
                let stats = try #require(try Self.json(response) as? [String: Any])
                #expect(Set(stats.keys) == ["since", "until", "bucket", "totals", "buckets", "by_model", "by_agent"])
                #expect(stats["since"] as? String == "1970-01-01T00:00:00.000000Z")
                #expect(stats["bucket"] as? String == "minute")
                let buckets = try #require(stats["buckets"] as? [[String: Any]])
                #expect(buckets.map { $0["start"] as? String }.last == "1970-01-01T00:02:00.000000Z")
                let totals = try #require(stats["totals"] as? [String: Any])
                #expect(
                    Set(totals.keys) == [
                        "spend_usd", "calls", "tokens_in", "tokens_out", "errors", "blocked", "latency_p50_ms",
                        "latency_p95_ms", "latency_p99_ms", "unpriced_calls",
                    ])
                #expect(totals["calls"] as? Int == 3)
                #expect(totals["latency_p50_ms"] as? Double == 12.5)
                let models = try #require(stats["by_model"] as? [[String: Any]])
                #expect(models.first?["model_id"] as? String == "gpt-4o")
                let agents = try #require(stats["by_agent"] as? [[String: Any]])
                #expect(agents.first?["agent_name"] as? String == "writer")
            }
            try await client.execute(uri: "/api/stats", method: .get) { response in
                #expect(response.status == .ok, "defaults: the last day by hour")
            }
        }
    }
}
