/// Links each tool result of a session to the call that asked for it: the latest earlier record whose
/// `tool_calls` carried the result's `tool_call_id`.
///
/// Pure: records in, records out, oldest first. A result answers a call made before its own request, so a
/// record's own tool calls never link its own results; an id reused later links to its latest asker.
package enum ToolLinks {
    package static func link(_ records: [CallRecord]) -> [CallRecord] {
        var askers: [String: String] = [:]
        var linked = records
        for index in linked.indices {
            if var results = linked[index].toolResults {
                for position in results.indices {
                    results[position].requestedBy = results[position].toolCallID.flatMap { askers[$0] }
                }
                linked[index].toolResults = results
            }
            for call in linked[index].toolCalls ?? [] {
                if let id = call.id { askers[id] = linked[index].actionID }
            }
        }
        return linked
    }
}
