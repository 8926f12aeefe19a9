import Foundation
import LedgerProtocol
import LedgerTestSupport
import MCP
import Testing

@testable import Collector

/// The MCP tools' handlers on a real store: each tool's answer and shape, paging, and that every bad argument or
/// unknown id is a tool error naming what is wrong.
@Suite struct MCPToolsTests {
    static let now: Int64 = 1_775_217_600_000_000  // 2026-04-03T12:00:00Z

    /// Two sessions: `s1` with 3 calls by `writer` in production, `s2` with 1 call by `critic`, plus a blocked call.
    static let records: [CallRecord] = {
        var records = (0..<3).map { index in
            var call = CallRecord.stored("a\(index)", session: "s1", at: now - Int64(3 - index) * 60_000_000, cost: 0.25)
            call.environment = "production"
            call.userID = "ana"
            call.content = "the capital of France is Paris, answer \(index)"
            return call
        }
        var other = CallRecord.stored("b0", session: "s2", at: now - 30_000_000, cost: 1.5)
        other.agentName = "critic"
        other.modelID = "claude-sonnet-4"
        other.appID = "billing"
        records.append(other)
        var blocked = CallRecord.stored("x0", session: "s2", at: now - 20_000_000, cost: 9, status: 429)
        blocked.blocked = true
        blocked.agentName = "critic"
        records.append(blocked)
        return records
    }()

    static func withTools(
        kind: StoreKind = .sqlite, budgets: MCPTools.Budgets? = nil, _ body: (MCPTools) async throws -> Void
    ) async throws {
        try await kind.withStore { store in
            _ = try await store.insert(records)
            try await body(MCPTools(store: store, budgets: budgets ?? .configured(EnforcementPolicy()), now: { now }))
        }
    }

    /// Calls a tool and requires a success, returning its structured content.
    static func success(_ tools: MCPTools, _ name: String, _ arguments: [String: Value] = [:]) async throws -> [String: Value] {
        let result = await tools.call(name, arguments: arguments)
        #expect(result.isError != true, "\(name) \(arguments): \(result.content)")
        let structured = try #require(result.structuredContent?.objectValue, "\(name) has structured content")
        // The same JSON as text, for clients that read only text.
        guard case .text(let text, _, _) = try #require(result.content.first) else {
            Issue.record("\(name): no text content")
            return structured
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let reread = try JSONDecoder().decode(Value.self, from: Data(text.utf8))
        #expect(try encoder.encode(reread) == encoder.encode(Value.object(structured)))
        return structured
    }

    /// Calls a tool and requires a tool error whose message contains `naming`.
    static func failure(_ tools: MCPTools, _ name: String, _ arguments: [String: Value], naming: String) async {
        let result = await tools.call(name, arguments: arguments)
        #expect(result.isError == true, "\(name) \(arguments) should fail")
        guard case .text(let text, _, _)? = result.content.first else {
            Issue.record("\(name): a tool error carries a message")
            return
        }
        #expect(text.contains(naming), "\(name) \(arguments): \(text)")
    }

    @Test func listsSevenReadOnlyToolsEachWithADescribedSchema() {
        let names = MCPTools.tools.map(\.name)
        #expect(names == ["explain", "get_session", "list_sessions", "search", "spend", "stats", "budgets"])
        for tool in MCPTools.tools {
            #expect(tool.annotations.readOnlyHint == true, "\(tool.name)")
            let schema = try? #require(tool.inputSchema.objectValue)
            #expect(schema?["type"] == "object")
            for (name, property) in schema?["properties"]?.objectValue ?? [:] {
                #expect(property.objectValue?["description"]?.stringValue?.isEmpty == false, "\(tool.name).\(name)")
            }
        }
    }

    @Test(arguments: StoreKind.testable) func explainAnswersTheRecordAsTheAPIDoes(kind: StoreKind) async throws {
        try await Self.withTools(kind: kind) { tools in
            let record = try await Self.success(tools, "explain", ["action_id": "a1"])
            #expect(record["action_id"] == "a1")
            #expect(record["session_id"] == "s1")
            #expect(record["cost_usd"]?.doubleValue == 0.25)
            #expect(record.keys.contains("tool_results"), "every field of the record, null when unknown")
            await Self.failure(tools, "explain", ["action_id": "nope"], naming: "no call with action_id nope")
            await Self.failure(tools, "explain", [:], naming: "action_id is required")
            await Self.failure(tools, "explain", ["action_id": 7], naming: "action_id must be a string")
        }
    }

    @Test(arguments: StoreKind.testable) func getSessionPagesOldestFirst(kind: StoreKind) async throws {
        try await Self.withTools(kind: kind) { tools in
            let first = try await Self.success(tools, "get_session", ["session_id": "s1", "limit": 2])
            #expect(first["calls"]?.arrayValue?.map { $0.objectValue?["action_id"] } == ["a0", "a1"])
            #expect(first["total_calls"] == 3)
            #expect(first["next_offset"] == 2)
            let rest = try await Self.success(tools, "get_session", ["session_id": "s1", "limit": 2, "offset": 2])
            #expect(rest["calls"]?.arrayValue?.map { $0.objectValue?["action_id"] } == ["a2"])
            #expect(rest["next_offset"] == .null)
            await Self.failure(tools, "get_session", ["session_id": "s9"], naming: "no session with session_id s9")
            await Self.failure(tools, "get_session", ["session_id": "s1", "limit": 0], naming: "limit must be an integer from 1")
            await Self.failure(tools, "get_session", ["session_id": "s1", "limit": "ten"], naming: "limit")
            await Self.failure(tools, "get_session", ["session": "s1"], naming: "unknown argument session")
        }
    }

    @Test func aPageStopsAtItsByteBudgetButNeverEmpty() {
        var big = CallRecord.stored("big", at: 0)
        big.content = String(repeating: "x", count: MCPTools.pageBytes)
        let records = [big, big, big]
        let page = MCPTools.page(records[...])
        #expect(page.count == 1)
        #expect(page.json.count > MCPTools.pageBytes)
    }

    @Test(arguments: StoreKind.testable) func listSessionsFiltersAndPages(kind: StoreKind) async throws {
        try await Self.withTools(kind: kind) { tools in
            let all = try await Self.success(tools, "list_sessions", ["limit": 1])
            #expect(all["total"] == 2)
            #expect(all["next_offset"] == 1)
            #expect(all["sessions"]?.arrayValue?.first?.objectValue?["session_id"] == "s2", "newest first")
            let critic = try await Self.success(tools, "list_sessions", ["agent": "critic"])
            #expect(critic["sessions"]?.arrayValue?.map { $0.objectValue?["session_id"] } == ["s2"])
            let recent = try await Self.success(tools, "list_sessions", ["since": "45s"])
            #expect(recent["total"] == 1, "a duration counts back from now")
            await Self.failure(tools, "list_sessions", ["since": "yesterday"], naming: "since must be")
            await Self.failure(tools, "list_sessions", ["since": "1h", "until": "2h"], naming: "since must not be after until")
        }
    }

    @Test(arguments: StoreKind.testable) func searchFindsCallsByTheirText(kind: StoreKind) async throws {
        try await Self.withTools(kind: kind) { tools in
            let found = try await Self.success(tools, "search", ["query": "capital paris", "limit": 2])
            #expect(found["count"] == 2)
            #expect(found["calls"]?.arrayValue?.map { $0.objectValue?["action_id"] } == ["a2", "a1"])
            await Self.failure(tools, "search", ["query": "   "], naming: "query is required")
            await Self.failure(tools, "search", ["query": "x", "limit": 1000], naming: "limit must be an integer from 1 to 200")
        }
    }

    @Test(arguments: StoreKind.testable) func spendGroupsByEachDimension(kind: StoreKind) async throws {
        try await Self.withTools(kind: kind) { tools in
            let byModel = try await Self.success(tools, "spend", ["since": "1d"])
            #expect(byModel["group_by"] == "model")
            #expect(byModel["total_usd"]?.doubleValue == 2.25, "the blocked call costs nothing")
            #expect(byModel["calls"] == 4)
            let groups = byModel["groups"]?.arrayValue?.compactMap(\.objectValue) ?? []
            #expect(groups.map { $0["key"] } == ["claude-sonnet-4", "gpt-4o"], "highest spend first")
            let byEnvironment = try await Self.success(tools, "spend", ["group_by": "environment", "since": "1d"])
            let environments = byEnvironment["groups"]?.arrayValue?.compactMap(\.objectValue) ?? []
            #expect(environments.map { $0["key"] } == ["development", "production"])
            #expect(environments.map { $0["spend_usd"]?.doubleValue } == [1.5, 0.75])
            let byApp = try await Self.success(tools, "spend", ["group_by": "app", "since": "1d", "limit": 1])
            #expect(byApp["groups"]?.arrayValue?.count == 1)
            #expect(byApp["groups_total"] == 2, "calls without an app are a group of their own (key null)")
            let today = try await Self.success(tools, "spend", ["group_by": "user"])
            #expect(today["since"] == "2026-04-03T00:00:00.000000Z", "default: the start of the UTC day")
            await Self.failure(tools, "spend", ["group_by": "planet"], naming: "group_by must be one of model, agent")
        }
    }

    @Test func statsHasTheAPIShape() async throws {
        try await Self.withTools { tools in
            let stats = try await Self.success(tools, "stats", ["since": "1h", "bucket": "minute"])
            #expect(stats["totals"]?.objectValue?["calls"] == 5)
            #expect(stats["bucket"] == "minute")
            #expect(stats["by_model"]?.arrayValue?.count == 2)
            await Self.failure(tools, "stats", ["bucket": "week"], naming: "bucket must be one of minute, hour, day")
            await Self.failure(tools, "stats", ["since": "0", "until": "3650d", "bucket": "minute"], naming: "buckets")
        }
    }

    @Test func budgetsShowSpendAndReservationsOfTheLiveEnforcer() async throws {
        var policy = EnforcementPolicy()
        policy.dailyBudget = 10
        policy.agentBudget = 2
        policy.agentRPM = 100
        try await StoreKind.sqlite.withStore { store in
            let enforcer = Enforcer(
                policy: policy, prices: .builtIn, store: store, logger: Integration.logger, now: { Self.now })
            enforcer.seedToday(SpendTotals(total: 1.5, byAgent: ["writer": 0.5]))
            let verdict = await enforcer.verdict(
                for: Admit(requestID: 1, actionID: "r1", agentName: "writer", model: "gpt-4o", bodyBytes: 400, maxTokens: 1000))
            #expect(verdict.decision == .admit)
            let tools = MCPTools(store: store, budgets: .live(enforcer), now: { Self.now })
            let report = try await Self.success(tools, "budgets")
            #expect(report["source"] == "collector")
            let budgets = report["budgets"]?.arrayValue?.compactMap(\.objectValue) ?? []
            #expect(budgets.map { $0["scope"] } == ["agent", "fleet"])
            let writer = try #require(budgets.first?["keys"]?.arrayValue?.first?.objectValue)
            #expect(writer["key"] == "writer")
            #expect(writer["spent_usd"]?.doubleValue == 0.5)
            #expect((writer["reserved_usd"]?.doubleValue ?? 0) > 0, "the admitted call's reservation shows")
            let rates = report["rate_limits"]?.arrayValue?.compactMap(\.objectValue) ?? []
            #expect(rates.first?["scope"] == "agent")
            #expect(rates.first?["keys"]?.arrayValue?.first?.objectValue?["requests"] == 1)
            await Self.failure(tools, "budgets", ["limit": -1], naming: "limit")
        }
    }

    @Test func budgetsClosestToTheirLimitComeFirst() async throws {
        var policy = EnforcementPolicy()
        policy.agentBudget = 2
        policy.userBudget = 100
        policy.dailyBudget = 2
        try await StoreKind.sqlite.withStore { store in
            let enforcer = Enforcer(
                policy: policy, prices: .builtIn, store: store, logger: Integration.logger, now: { Self.now })
            // The fleet is at 75% of its limit, the writer agent at 25%, the user budget has no key yet.
            enforcer.seedToday(SpendTotals(total: 1.5, byAgent: ["writer": 0.5, "critic": 0.25]))
            let report = BudgetReport.live(enforcer, keys: 20, now: Self.now)
            let budgets = report.objectValue?["budgets"]?.arrayValue?.compactMap(\.objectValue) ?? []
            #expect(budgets.map { $0["scope"] } == ["fleet", "agent", "user"])
            #expect(budgets[1]["keys"]?.arrayValue?.compactMap { $0.objectValue?["key"] } == ["writer", "critic"])
            #expect(budgets[0]["keys"]?.arrayValue?.first?.objectValue?["used_fraction"]?.doubleValue == 0.75)

            enforcer.seedToday(SpendTotals(total: 1.5, byAgent: ["writer": 1.9]))
            let after = BudgetReport.live(enforcer, keys: 20, now: Self.now)
            let scopes = after.objectValue?["budgets"]?.arrayValue?.compactMap { $0.objectValue?["scope"] }
            #expect(scopes == ["agent", "fleet", "user"])
        }
    }

    @Test func budgetsFromTheStoreShowTodaysSettledSpend() async throws {
        var policy = EnforcementPolicy()
        policy.userBudget = 1
        try await Self.withTools(budgets: .configured(policy)) { tools in
            let report = try await Self.success(tools, "budgets")
            #expect(report["source"] == "store")
            let user = try #require(report["budgets"]?.arrayValue?.first?.objectValue)
            #expect(user["scope"] == "user")
            let ana = try #require(user["keys"]?.arrayValue?.first?.objectValue)
            #expect(ana["key"] == "ana")
            #expect(ana["spent_usd"]?.doubleValue == 0.75)
            #expect(ana["remaining_usd"]?.doubleValue == 0.25)
        }
    }

    @Test func argumentsOfTheWrongTypeAreToolErrors() async throws {
        try await Self.withTools { tools in
            await Self.failure(tools, "list_sessions", ["limit": 2.5], naming: "limit must be an integer")
            await Self.failure(tools, "list_sessions", ["agent": ["writer"]], naming: "agent must be a string")
            await Self.failure(
                tools, "search", ["query": .string(String(repeating: "q", count: 5000))], naming: "at most 4096 characters")
            await Self.failure(tools, "stats", ["bogus": true], naming: "unknown argument bogus")
        }
    }
}
