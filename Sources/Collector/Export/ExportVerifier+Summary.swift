/// The `session` block of an export is not in the hashed bytes, so `verify-export` folds it again from the hashed
/// calls, the way the export built it (`SessionSummary(sessionID:calls:)`), and compares every field: an edited total,
/// user id or model is caught in exports of every version (issue 14 item 15).
extension ExportVerifier {
    /// Why the session block disagrees with the calls; nil when every field agrees.
    static func summaryMismatch(_ session: JSONValue?, _ records: [JSONValue]) -> String? {
        guard let session, session.objectValue != nil else { return "the session block is missing" }
        guard let id = session["session_id"]?.stringValue else { return "session.session_id is missing" }
        var calls: [CallRecord] = []
        calls.reserveCapacity(records.count)
        for record in records {
            guard let call = summaryFields(of: record) else {
                return "call \(record["action_id"]?.stringValue ?? "?") lacks its action_id or timestamp"
            }
            calls.append(call)
        }
        if let stray = calls.first(where: { $0.sessionID != id }) { return "call \(stray.actionID) is not in session \(id)" }
        guard let folded = SessionSummary(sessionID: id, calls: calls), let expected = try? AuditExport.json(of: folded),
            let fields = expected.objectValue
        else { return "the export holds no calls" }
        let claimed = session.objectValue ?? [:]
        for key in Set(fields.keys).union(claimed.keys).sorted()
        where !agree(claimed[key], fields[key], slack: key == "total_latency_ms" || key == "ended_at" ? calls.count : 0) {
            return "session.\(key) says \(shown(claimed[key])) but the calls give \(shown(fields[key]))"
        }
        return nil
    }

    /// The fields of an exported call that its session's aggregates are folded from.
    private static func summaryFields(of record: JSONValue) -> CallRecord? {
        guard let actionID = record["action_id"]?.stringValue,
            let timestamp = record["timestamp"]?.stringValue.flatMap(TimeParameter.micros)
        else { return nil }
        var call = CallRecord(actionID: actionID, timestampMicros: timestamp)
        call.sessionID = record["session_id"]?.stringValue
        call.latencyMS = record["latency_ms"]?.doubleValue
        call.tokensIn = record["tokens_in"]?.intValue
        call.tokensOut = record["tokens_out"]?.intValue
        call.costUSD = record["cost_usd"]?.doubleValue
        call.blocked = record["blocked"]?.boolValue ?? false
        call.statusCode = record["status_code"]?.intValue
        call.outcome = record["outcome"]?.stringValue ?? "completed"
        call.modelID = record["model_id"]?.stringValue
        call.agentName = record["agent_name"]?.stringValue
        call.userID = record["user_id"]?.stringValue
        call.environment = record["environment"]?.stringValue
        call.appID = record["app_id"]?.stringValue
        call.source = record["source"]?.stringValue
        return call
    }

    /// Equal, but for `slack` microseconds: each call's latency is written to the microsecond, so the latency total
    /// and the end time folded from the calls' JSON may differ from the exported ones by a microsecond per call.
    private static func agree(_ claimed: JSONValue?, _ folded: JSONValue?, slack: Int) -> Bool {
        switch (claimed, folded) {
        case (nil, nil): return true
        case (let a?, let b?):
            if slack > 0, let x = a.doubleValue, let y = b.doubleValue {
                return abs(x - y) <= 0.001 * Double(slack + 1)  // milliseconds
            }
            if slack > 0, let x = a.stringValue.flatMap(TimeParameter.micros),
                let y = b.stringValue.flatMap(TimeParameter.micros)
            {
                return abs(x - y) <= Int64(slack) + 1
            }
            return (try? CanonicalJSON.bytes(of: a)) == (try? CanonicalJSON.bytes(of: b))
        default: return (claimed ?? .null) == .null && (folded ?? .null) == .null  // absent and null are the same
        }
    }

    private static func shown(_ value: JSONValue?) -> String {
        guard let value, let bytes = try? CanonicalJSON.bytes(of: value) else { return "nothing" }
        let text = String(decoding: bytes.prefix(80), as: UTF8.self)
        return bytes.count > 80 ? text + "…" : text
    }
}
