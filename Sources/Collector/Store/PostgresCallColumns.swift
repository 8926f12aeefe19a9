import Foundation
import PostgresNIO

/// How `CallRecord`s map to rows of the Postgres `calls` table: one array bind per column for a batch insert, and back.
/// The messages go to the `messages` table, once each (`MessageBatch`); a call row holds their digests.
///
/// Postgres text and jsonb cannot hold NUL characters, so a NUL in a record is stored as U+FFFD; anything else
/// round-trips unchanged.
enum PostgresCallColumns {
    /// One column of a batch: its name, the array type it is bound as, and how to read it off the records.
    struct Column: Sendable {
        var name: String
        var arrayType: String
        /// `jsonb` columns are bound as text and cast.
        var isJSON = false
        /// The session aggregates need a few values that are not columns of `calls`.
        var isStored = true
        var values: @Sendable (Batch) -> any PostgresDynamicTypeEncodable

        static func text(_ name: String, stored: Bool = true, _ value: @escaping @Sendable (CallRecord) -> String?) -> Column {
            Column(name: name, arrayType: "text[]", isStored: stored) {
                PostgresNullableArray($0.records.map { value($0).map(withoutNUL) })
            }
        }

        static func json(_ name: String, _ value: @escaping @Sendable (CallRecord) -> String?) -> Column {
            Column(name: name, arrayType: "text[]", isJSON: true) { PostgresNullableArray($0.records.map(value)) }
        }

        static func int(_ name: String, stored: Bool = true, _ value: @escaping @Sendable (CallRecord) -> Int?) -> Column {
            Column(name: name, arrayType: "int8[]", isStored: stored) { PostgresNullableArray($0.records.map(value)) }
        }

        static func double(_ name: String, _ value: @escaping @Sendable (CallRecord) -> Double?) -> Column {
            Column(name: name, arrayType: "float8[]") { PostgresNullableArray($0.records.map(value)) }
        }

        static func bool(_ name: String, stored: Bool = true, _ value: @escaping @Sendable (CallRecord) -> Bool) -> Column {
            Column(name: name, arrayType: "bool[]", isStored: stored) { PostgresNullableArray($0.records.map(value)) }
        }
    }

    /// What a batch's binds are made of: the records, their messages, and the search words both contribute.
    struct Batch {
        var records: [CallRecord]
        var messages: MessageBatch
        /// Per record, the words of its agent, user, output and system prompt.
        var searchHeads: [String] = []
        /// Per distinct message, its words, indexed with its owner when the message is new to the store.
        var messageWords: [String]
        /// Per record, how many of the batch's distinct messages it owns.
        var ownedCounts: [Int] = []
        /// Per record, its search words with those of every message it owns as a `tsvector` (`SearchVector`): its
        /// `search` value when all those messages are new to the store.
        var searchVectors: [SearchVector?] = []
        /// The batch's sessions, each folded from its calls in order: their rows when every call of the batch is new.
        var sessions: [SessionSummary] = []

        init(_ records: [CallRecord]) {
            self.records = records
            var sessionIndex: [String: Int] = [:]
            for index in records.indices {
                guard let id = records[index].sessionID.map(withoutNUL) else { continue }
                if let existing = sessionIndex[id] {
                    sessions[existing].fold(records[index])
                } else {
                    sessionIndex[id] = sessions.count
                    sessions.append(SessionSummary(sessionID: id, first: records[index]))
                }
            }
            messages = MessageBatch(records)
            messageWords = Array(repeating: "", count: messages.messages.count)
            var byOwner = [[Int]](repeating: [], count: records.count)
            // By index: enumerating would copy each record and message, retaining every field on the way.
            for index in messages.messages.indices { byOwner[messages.messages[index].owner].append(index) }
            for owner in records.indices {
                let owned = byOwner[owner].map { messages.messages[$0].value }
                let parts = SearchText.parts(for: records[owner], messages: owned)
                searchHeads.append(parts.head)
                for (index, words) in zip(byOwner[owner], parts.messages) { messageWords[index] = words }
                ownedCounts.append(parts.messages.count)
                searchVectors.append(SearchVector(of: [parts.head] + parts.messages.reversed()))
            }
        }
    }

    /// The binds after the columns' for the batch's distinct messages, as `unnest` takes them.
    static let messageArrays = [
        "hash bytea[]", "body text[]", "owner int8[]", "position int8[]", "words text[]", "last_used int8[]",
    ]

    /// The binds after the messages': the batch's sessions folded in Swift, one row each, then their sources as
    /// (1-based session, source) pairs in order, as `unnest` takes them.
    static let sessionArrays = [
        "session_id text[]", "call_count int8[]", "started_at int8[]", "ended_at int8[]", "total_latency_ms float8[]",
        "total_tokens_in int8[]", "total_tokens_out int8[]", "total_cost_usd float8[]", "error_count int8[]",
        "blocked_count int8[]", "model_id text[]", "agent_name text[]", "user_id text[]", "environment text[]",
        "app_id text[]", "unpriced_calls int8[]",
    ]
    static let sessionSourceArrays = ["session int8[]", "source text[]"]

    /// Every column of `calls` (minus the generated `ts`), then the batch-only values, in bind order.
    static let batch: [Column] = [
        .text("action_id") { $0.actionID }, .text("session_id") { $0.sessionID },
        .int("ts_micros") { Int($0.timestampMicros) }, .text("model_id") { $0.modelID }, .text("provider") { $0.provider },
        Column(name: "message_hashes", arrayType: "bytea[]") { $0.messages.digests.map { ByteBuffer(bytes: $0) } },
        .text("system_prompt") { $0.systemPrompt },
        .json("tools") { $0.tools.map { json(JSONText.encode($0)) } },
        .json("tool_calls") { $0.toolCalls.map { json(JSONText.encode($0)) } },
        .json("tool_results") { $0.toolResults.map { json(JSONText.encode($0)) } }, .text("content") { $0.content },
        .text("stop_reason") { $0.stopReason }, .int("tokens_in") { $0.tokensIn }, .int("tokens_out") { $0.tokensOut },
        .int("tokens_cache_read") { $0.tokensCacheRead }, .int("tokens_cache_write") { $0.tokensCacheWrite },
        .int("tokens_reasoning") { $0.tokensReasoning }, .double("cost_usd") { $0.costUSD },
        .text("price_table") { $0.priceTable }, .double("latency_ms") { $0.latencyMS }, .double("ttft_ms") { $0.ttftMS },
        .bool("stream") { $0.stream }, .int("status_code") { $0.statusCode }, .text("error_detail") { $0.errorDetail },
        .bool("blocked") { $0.blocked }, .text("agent_name") { $0.agentName }, .text("user_id") { $0.userID },
        .text("app_id") { $0.appID }, .text("environment") { $0.environment },
        .text("parent_action_id") { $0.parentActionID }, .text("handoff_from") { $0.handoffFrom },
        .text("handoff_to") { $0.handoffTo }, .double("temperature") { $0.temperature },
        .int("max_tokens") { $0.maxTokens }, .text("source") { $0.source }, .text("outcome") { $0.outcome },
        .bool("is_error", stored: false) { $0.isError },
        Column(name: "search_text", arrayType: "text[]", isStored: false) { $0.searchHeads.map(withoutNUL) },
        Column(name: "search_vector", arrayType: "tsvector[]", isStored: false) { PostgresNullableArray($0.searchVectors) },
        Column(name: "owned", arrayType: "int8[]", isStored: false) { $0.ownedCounts },
        .int("ended_at", stored: false) { Int($0.endedAtMicros) },
    ]

    static let stored = batch.filter(\.isStored)

    /// The binds of `PostgresSchema.insertBatch`: one array per column of `batch`, then the `messageArrays`, the
    /// `sessionArrays` and the `sessionSourceArrays`.
    static func bindings(for records: [CallRecord]) -> PostgresBindings {
        let values = Batch(records)
        var bindings = PostgresBindings(
            capacity: batch.count + messageArrays.count + sessionArrays.count + sessionSourceArrays.count)
        for column in batch {
            bindings.append(column.values(values))
        }
        let messages = values.messages.messages
        bindings.append(messages.map { ByteBuffer(bytes: $0.digest) })
        bindings.append(messages.map { json($0.text) })
        bindings.append(messages.map { $0.owner + 1 })
        bindings.append(messages.map(\.position))
        bindings.append(values.messageWords.map(withoutNUL))
        bindings.append(messages.map { Int($0.lastUsedMicros) })
        let sessions = values.sessions
        bindings.append(sessions.map(\.sessionID))
        bindings.append(sessions.map(\.callCount))
        bindings.append(sessions.map { Int($0.startedAtMicros) })
        bindings.append(sessions.map { Int($0.endedAtMicros) })
        bindings.append(sessions.map(\.totalLatencyMS))
        bindings.append(sessions.map(\.totalTokensIn))
        bindings.append(sessions.map(\.totalTokensOut))
        bindings.append(sessions.map(\.totalCostUSD))
        bindings.append(sessions.map(\.errorCount))
        bindings.append(sessions.map(\.blockedCount))
        for name in [\SessionSummary.modelID, \.agentName, \.userID, \.environment, \.appID] {
            bindings.append(PostgresNullableArray(sessions.map { $0[keyPath: name].map(withoutNUL) }))
        }
        bindings.append(sessions.map(\.unpricedCalls))
        let sources = sessions.indices.flatMap { index in sessions[index].sources.map { (index + 1, $0) } }
        bindings.append(sources.map(\.0))
        bindings.append(sources.map { withoutNUL($0.1) })
        return bindings
    }

    /// The digests of a row's messages, in order.
    static func messageDigests(from row: PostgresRow) throws -> [[UInt8]] {
        let bytes = try row.makeRandomAccess()["message_hashes"].decode(ByteBuffer?.self)
        return try MessageDigest.split(bytes.map { Array($0.readableBytesView) })
    }

    /// The row's fields but the messages, which the reads assemble from `messageDigests(from:)`.
    static func record(from row: PostgresRow) throws -> CallRecord {
        let cells = row.makeRandomAccess()
        func text(_ name: String) throws -> String? { try cells[name].decode(String?.self) }
        func int(_ name: String) throws -> Int? { try cells[name].decode(Int?.self) }
        func double(_ name: String) throws -> Double? { try cells[name].decode(Double?.self) }
        func bool(_ name: String) throws -> Bool { try cells[name].decode(Bool?.self) ?? false }
        guard let actionID = try text("action_id"), let micros = try cells["ts_micros"].decode(Int64?.self) else {
            throw StoreError("a calls row lacks action_id or ts_micros")
        }
        var record = CallRecord(actionID: actionID, timestampMicros: micros)
        record.sessionID = try text("session_id")
        record.modelID = try text("model_id")
        record.provider = try text("provider")
        record.systemPrompt = try text("system_prompt")
        record.tools = try text("tools").map { try JSONText.decode(JSONValue.self, $0) }
        record.toolCalls = try text("tool_calls").map { try JSONText.decode([ToolCall].self, $0) }
        record.toolResults = try text("tool_results").map { try JSONText.decode([ToolResult].self, $0) }
        record.content = try text("content")
        record.stopReason = try text("stop_reason")
        record.tokensIn = try int("tokens_in")
        record.tokensOut = try int("tokens_out")
        record.tokensCacheRead = try int("tokens_cache_read")
        record.tokensCacheWrite = try int("tokens_cache_write")
        record.tokensReasoning = try int("tokens_reasoning")
        record.costUSD = try double("cost_usd")
        record.priceTable = try text("price_table")
        record.latencyMS = try double("latency_ms")
        record.ttftMS = try double("ttft_ms")
        record.stream = try bool("stream")
        record.statusCode = try int("status_code")
        record.errorDetail = try text("error_detail")
        record.blocked = try bool("blocked")
        record.agentName = try text("agent_name")
        record.userID = try text("user_id")
        record.appID = try text("app_id")
        record.environment = try text("environment")
        record.parentActionID = try text("parent_action_id")
        record.handoffFrom = try text("handoff_from")
        record.handoffTo = try text("handoff_to")
        record.temperature = try double("temperature")
        record.maxTokens = try int("max_tokens")
        record.source = try text("source")
        record.outcome = try text("outcome") ?? "completed"
        return record
    }

    /// JSON text for a jsonb column; strings holding NUL are cleaned first (the writer escapes NUL as `\u0000`).
    static func json(_ text: String) -> String {
        guard JSONText.containsEscapedNUL(text) else { return text }
        // Escaped backslashes are set aside first, so `\\u0000` (a backslash, then "u0000") stays as it is.
        // A raw U+0001 never occurs in encoded JSON: the encoder escapes control characters.
        return text.replacingOccurrences(of: "\\\\", with: "\u{1}").replacingOccurrences(of: "\\u0000", with: "\\ufffd")
            .replacingOccurrences(of: "\u{1}", with: "\\\\")
    }

    static func withoutNUL(_ text: String) -> String {
        let hasNUL = text.utf8.withContiguousStorageIfAvailable { $0.firstIndex(of: 0) != nil } ?? text.utf8.contains(0)
        return hasNUL ? text.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : text
    }
}
