import Foundation
import Logging
import Testing

@testable import Collector

@Suite struct SQLiteStoreTests {
    func record(_ id: String, session: String? = "s1", at micros: Int64, cost: Double? = 0.5, status: Int? = 200) -> CallRecord {
        var record = CallRecord(actionID: id, timestampMicros: micros)
        record.sessionID = session
        record.modelID = "gpt-4o"
        record.provider = "openai"
        record.messages = [.object(["role": .string("user"), "content": .string("héllo ✓ \"quoted\"")])]
        record.toolCalls = [ToolCall(id: "call_1", name: "get_weather", arguments: #"{"city":"Paris"}"#)]
        record.toolResults = [ToolResult(toolCallID: "call_0", content: .string("18C"))]
        record.tools = .array([.object(["type": .string("function")])])
        record.tokensIn = 100
        record.tokensOut = 20
        record.costUSD = cost
        record.latencyMS = 12.5
        record.statusCode = status
        record.agentName = "writer"
        record.environment = "development"
        return record
    }

    func withStore(_ body: (SQLiteStore) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agentledger-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try await SQLiteStore.open(
            path: directory.appendingPathComponent("test.db").path, logger: Logger(label: "test"))
        try await store.migrate()
        try await body(store)
        try await store.close()
    }

    @Test func migrationsAreIdempotentAndMakeTheStoreReady() async throws {
        try await withStore { store in
            try await store.migrate()
            try await store.checkReady()
        }
    }

    @Test func insertIsIdempotentOnActionID() async throws {
        try await withStore { store in
            let first = try await store.insert([record("a", at: 1), record("b", at: 2)])
            #expect(first == InsertResult(stored: 2, duplicates: 0))
            let replay = try await store.insert([record("b", at: 2), record("c", at: 3)])
            #expect(replay == InsertResult(stored: 1, duplicates: 1))
            let calls = try await store.calls(inSession: "s1")
            #expect(calls.map(\.actionID) == ["a", "b", "c"])
            let sessions = try await store.sessions(SessionQuery())
            #expect(sessions.sessions.first?.callCount == 3, "a replay must not count twice in the aggregates")
        }
    }

    @Test func recordsRoundTripEveryField() async throws {
        try await withStore { store in
            var original = record("a", at: 1_775_217_600_123_456)
            original.systemPrompt = "be brief"
            original.tokensCacheRead = 64
            original.tokensCacheWrite = 8
            original.tokensReasoning = 5
            original.priceTable = "builtin"
            original.ttftMS = 3.25
            original.stream = true
            original.errorDetail = "x"
            original.userID = "u"
            original.appID = "app"
            original.parentActionID = "p"
            original.handoffFrom = "a1"
            original.handoffTo = "a2"
            original.temperature = 0.7
            original.maxTokens = 256
            original.source = "pod-1"
            original.stopReason = "stop"
            original.content = "ok"
            original.outcome = "client_disconnected"
            _ = try await store.insert([original])
            let loaded = try await store.call(actionID: "a")
            #expect(loaded == original)
            #expect(try await store.call(actionID: "missing") == nil)
        }
    }

    @Test func sessionAggregatesAreMaintained() async throws {
        try await withStore { store in
            var blocked = record("c", at: 30, cost: nil, status: 429)
            blocked.blocked = true
            _ = try await store.insert([record("a", at: 10), record("b", at: 20, cost: 0.25, status: 500), blocked])
            let page = try await store.sessions(SessionQuery())
            let summary = try #require(page.sessions.first)
            #expect(summary.callCount == 3)
            #expect(summary.startedAtMicros == 10)
            #expect(summary.totalCostUSD == 0.75)
            #expect(summary.totalTokensIn == 300)
            #expect(summary.errorCount == 1)
            #expect(summary.blockedCount == 1)
            #expect(summary.agentName == "writer")
        }
    }

    @Test func sessionsPageNewestFirstWithFilters() async throws {
        try await withStore { store in
            var records: [CallRecord] = []
            for index in 0..<5 {
                var call = record("c\(index)", session: "s\(index)", at: Int64(index * 100))
                call.agentName = index % 2 == 0 ? "even" : "odd"
                records.append(call)
            }
            records.append(record("none", session: nil, at: 1))
            _ = try await store.insert(records)
            let firstPage = try await store.sessions(SessionQuery(limit: 2, offset: 0))
            #expect(firstPage.total == 5)
            #expect(firstPage.sessions.map(\.sessionID) == ["s4", "s3"])
            let secondPage = try await store.sessions(SessionQuery(limit: 2, offset: 2))
            #expect(secondPage.sessions.map(\.sessionID) == ["s2", "s1"])
            var filtered = SessionQuery()
            filtered.agentName = "odd"
            let odd = try await store.sessions(filtered)
            #expect(odd.total == 2)
            #expect(odd.sessions.map(\.sessionID) == ["s3", "s1"])
        }
    }

    @Test func aSessionlessCallIsStoredButListedNowhere() async throws {
        try await withStore { store in
            _ = try await store.insert([record("x", session: nil, at: 1)])
            #expect(try await store.call(actionID: "x") != nil)
            #expect(try await store.sessions(SessionQuery()).total == 0)
        }
    }
}
