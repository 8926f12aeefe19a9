import Foundation
import LedgerProtocol
import MCP

/// The MCP tools (docs/reference.md, "MCP"): read-only views of the store and of budget enforcement, answered with
/// the HTTP API's JSON shapes as structured content (and the same JSON as text, for clients that read only text).
/// Large answers come a page at a time. A bad argument, an unknown id or a store failure is a tool result with
/// `isError: true`, never a protocol error.
package struct MCPTools: Sendable {
    /// Where the `budgets` tool reads from.
    package enum Budgets: Sendable {
        /// The collector's own enforcer: settled spend, reservations and rate windows, live.
        case live(Enforcer)
        /// The budgets a configuration sets, against today's settled spend in the store (`agentledger mcp`).
        case configured(EnforcementPolicy)
    }

    let store: any Store
    let budgets: Budgets
    let now: @Sendable () -> Int64

    /// A page of records stops growing past this many bytes of JSON (at least one record is always given).
    static let pageBytes = 256 * 1024

    package init(store: any Store, budgets: Budgets, now: @escaping @Sendable () -> Int64 = WallClock.nowMicros) {
        self.store = store
        self.budgets = budgets
        self.now = now
    }

    /// Every tool, as `tools/list` answers.
    package static var tools: [Tool] { definitions }

    /// Whether `name` is one of the tools (an unknown name is a protocol error, `invalidParams`).
    package static func has(_ name: String) -> Bool { definitions.contains { $0.name == name } }

    /// Runs one tool; every failure is a tool error result.
    package func call(_ name: String, arguments: [String: Value]?) async -> CallTool.Result {
        do {
            let value = try await answer(name, arguments)
            let text = String(decoding: try Self.encoder.encode(value), as: UTF8.self)
            return try CallTool.Result(content: [.text(text: text, annotations: nil, _meta: nil)], structuredContent: value)
        } catch let error as MCPToolError {
            return Self.failure(error.message)
        } catch {
            return Self.failure("\(name) failed: the store could not answer: \(error)")
        }
    }

    static func failure(_ message: String) -> CallTool.Result {
        CallTool.Result(content: [.text(text: message, annotations: nil, _meta: nil)], isError: true)
    }

    private func answer(_ name: String, _ raw: [String: Value]?) async throws -> Value {
        switch name {
        case "explain": return try await explain(MCPArguments(raw, allowed: ["action_id"]))
        case "get_session": return try await session(MCPArguments(raw, allowed: ["session_id", "limit", "offset"]))
        case "list_sessions":
            return try await sessions(
                MCPArguments(raw, allowed: ["limit", "offset", "agent", "user", "app", "environment", "since", "until"]))
        case "search": return try await search(MCPArguments(raw, allowed: ["query", "limit"]))
        case "spend": return try await spend(MCPArguments(raw, allowed: ["group_by", "since", "limit"]))
        case "stats": return try await stats(MCPArguments(raw, allowed: ["since", "until", "bucket"]))
        case "budgets": return try await budgetReport(MCPArguments(raw, allowed: ["limit"]))
        default: throw MCPToolError("unknown tool \(name)")
        }
    }

    // MARK: Tools

    private func explain(_ arguments: MCPArguments) async throws -> Value {
        let actionID = try arguments.requiredString("action_id")
        guard let call = try await store.call(actionID: actionID) else {
            throw MCPToolError("no call with action_id \(actionID)")
        }
        // As GET /explain: tool results name the earlier call of the session that asked for them.
        var record = call
        if let sessionID = call.sessionID, call.toolResults?.isEmpty == false {
            record = ToolLinks.link(try await store.calls(inSession: sessionID)).first { $0.actionID == actionID } ?? call
        }
        var bytes: [UInt8] = []
        record.appendJSON(to: &bytes)
        return try Self.value(bytes)
    }

    private func session(_ arguments: MCPArguments) async throws -> Value {
        let sessionID = try arguments.requiredString("session_id")
        let limit = try arguments.integer("limit", default: Self.defaultCalls, range: 1...Self.maximumCalls)
        let offset = try arguments.integer("offset", default: 0, range: 0...Int(Int32.max))
        let calls = try await store.calls(inSession: sessionID)
        guard !calls.isEmpty else { throw MCPToolError("no session with session_id \(sessionID)") }
        let linked = ToolLinks.link(calls)
        let page = Self.page(linked.dropFirst(offset).prefix(limit))
        let next = offset + page.count < linked.count ? offset + page.count : nil
        return .object([
            "session_id": .string(sessionID), "total_calls": .int(linked.count),
            "total_cost_usd": .double(calls.reduce(0) { $0 + ($1.blocked ? 0 : $1.costUSD ?? 0) }),
            "offset": .int(offset), "next_offset": next.map(Value.int) ?? .null, "calls": try Self.value(page.json),
        ])
    }

    private func sessions(_ arguments: MCPArguments) async throws -> Value {
        let time = now()
        var query = SessionQuery(
            limit: try arguments.integer("limit", default: Self.defaultSessions, range: 1...Self.maximumSessions),
            offset: try arguments.integer("offset", default: 0, range: 0...Int(Int32.max)))
        query.agentName = try arguments.string("agent")
        query.userID = try arguments.string("user")
        query.appID = try arguments.string("app")
        query.environment = try arguments.string("environment")
        query.sinceMicros = try arguments.time("since", now: time)
        query.untilMicros = try arguments.time("until", now: time)
        if let since = query.sinceMicros, let until = query.untilMicros, since > until {
            throw MCPToolError("since must not be after until")
        }
        let page = try await store.sessions(query)
        let next = query.offset + page.sessions.count < page.total ? query.offset + page.sessions.count : nil
        return .object([
            "sessions": try Self.value(Self.encoder.encode(page.sessions)), "total": .int(page.total),
            "offset": .int(query.offset), "next_offset": next.map(Value.int) ?? .null,
        ])
    }

    private func search(_ arguments: MCPArguments) async throws -> Value {
        let text = try arguments.requiredString("query")
        let limit = try arguments.integer("limit", default: Self.defaultCalls, range: 1...Self.maximumCalls)
        let found = try await store.search(SearchQuery(text: text, limit: limit))
        let page = Self.page(found[...])
        return .object([
            "query": .string(text), "count": .int(page.count), "truncated": .bool(page.count < found.count),
            "calls": try Self.value(page.json),
        ])
    }

    private func spend(_ arguments: MCPArguments) async throws -> Value {
        let time = now()
        let groupName = try arguments.string("group_by") ?? SpendBreakdown.Dimension.model.rawValue
        guard let dimension = SpendBreakdown.Dimension(rawValue: groupName) else {
            let names = SpendBreakdown.Dimension.allCases.map(\.rawValue).joined(separator: ", ")
            throw MCPToolError("group_by must be one of \(names), not \(groupName)")
        }
        let since = try arguments.time("since", now: time) ?? SpendLedger.dayStart(of: time)
        let limit = try arguments.integer("limit", default: Self.defaultGroups, range: 1...Self.maximumGroups)
        let breakdown = try await SpendBreakdown.read(from: store, by: dimension, sinceMicros: since)
        let groups: [Value] = breakdown.groups.prefix(limit).map { group in
            .object([
                "key": group.key.map(Value.string) ?? .null, "spend_usd": .double(group.spendUSD), "calls": .int(group.calls),
                "unpriced_calls": .int(group.unpriced),
            ])
        }
        return .object([
            "group_by": .string(dimension.rawValue), "since": .string(ISOTimestamp.format(micros: since)),
            "total_usd": .double(breakdown.totalUSD), "calls": .int(breakdown.calls),
            "unpriced_calls": .int(breakdown.unpriced), "groups": .array(groups),
            "groups_total": .int(breakdown.groups.count),
        ])
    }

    private func stats(_ arguments: MCPArguments) async throws -> Value {
        let time = now()
        let until = try arguments.time("until", now: time) ?? time
        let since = try arguments.time("since", now: time) ?? until - StatsQuery.Bucket.day.micros
        guard since <= until else { throw MCPToolError("since must not be after until") }
        let bucketName = try arguments.string("bucket") ?? StatsQuery.Bucket.hour.rawValue
        guard let bucket = StatsQuery.Bucket(rawValue: bucketName) else {
            throw MCPToolError(
                "bucket must be one of \(StatsQuery.Bucket.allCases.map(\.rawValue).joined(separator: ", ")), not \(bucketName)")
        }
        let query = StatsQuery(sinceMicros: since, untilMicros: until, bucket: bucket)
        guard query.bucketCount <= CollectorAPI.maximumStatsBuckets else {
            throw MCPToolError(
                "bucket \(bucket.rawValue) makes more than \(CollectorAPI.maximumStatsBuckets) buckets from since to until")
        }
        return try Self.value(Self.encoder.encode(try await store.stats(query)))
    }

    private func budgetReport(_ arguments: MCPArguments) async throws -> Value {
        let limit = try arguments.integer("limit", default: BudgetReport.defaultKeys, range: 1...500)
        switch budgets {
        case .live(let enforcer): return BudgetReport.live(enforcer, keys: limit, now: now())
        case .configured(let policy): return try await BudgetReport.fromStore(store, policy: policy, keys: limit, now: now())
        }
    }

    // MARK: JSON

    /// Records as a JSON array, as many as fit in `pageBytes` (at least one).
    static func page(_ records: ArraySlice<CallRecord>) -> (json: [UInt8], count: Int) {
        var output: [UInt8] = [UInt8(ascii: "[")]
        var count = 0
        for record in records {
            var bytes: [UInt8] = []
            record.appendJSON(to: &bytes)
            if count > 0 && output.count + bytes.count > pageBytes { break }
            if count > 0 { output.append(UInt8(ascii: ",")) }
            output.append(contentsOf: bytes)
            count += 1
        }
        output.append(UInt8(ascii: "]"))
        return (output, count)
    }

    /// JSON text (as the HTTP API writes it) as a structured-content value.
    static func value(_ json: some Collection<UInt8>) throws -> Value {
        try JSONDecoder().decode(Value.self, from: Data(json))
    }

    /// The HTTP API's encoder settings (`JSONResponse.make`).
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return encoder
    }
}
