import MCP

/// The tools' names, descriptions and input schemas, as `tools/list` answers them (docs/reference.md, "MCP").
extension MCPTools {
    static let definitions: [Tool] = [
        tool(
            "explain", title: "Explain one call",
            "One recorded LLM call by its action_id: model, prompt messages, output, tokens, cost, latency, status, "
                + "agent, user, session and the calls its tool results answer. Same record as GET /explain/{action_id}.",
            properties: ["action_id": string("The call's action_id (from get_session, search or a response header).")],
            required: ["action_id"]),
        tool(
            "get_session", title: "Calls of a session",
            "The calls of one session, oldest first, a page at a time (offset and limit; next_offset is set while "
                + "more remain), plus the session's totals. Records as GET /session/{session_id}.",
            properties: [
                "session_id": string("The session id (x-agentledger-session-id of the agent's calls)."),
                "limit": integer("Calls per page, 1 to \(maximumCalls); default \(defaultCalls).", 1...maximumCalls),
                "offset": integer("Calls to skip from the oldest; default 0.", 0...Int(Int32.max)),
            ],
            required: ["session_id"]),
        tool(
            "list_sessions", title: "List sessions",
            "Sessions newest first with their aggregates (calls, tokens, cost, errors, agent, user, environment), "
                + "filtered and paged; total is how many match. Same shape as GET /api/sessions.",
            properties: [
                "limit": integer("Sessions per page, 1 to \(maximumSessions); default \(defaultSessions).", 1...maximumSessions),
                "offset": integer("Sessions to skip; default 0.", 0...Int(Int32.max)),
                "agent": string("Only sessions of this agent name."),
                "user": string("Only sessions of this user id."),
                "app": string("Only sessions of this app id."),
                "environment": string("Only sessions of this environment."),
                "since": string(timeText("Only sessions still running at or after this time")),
                "until": string(timeText("Only sessions started at or before this time")),
            ],
            required: []),
        tool(
            "search", title: "Search calls",
            "Full-text search over prompts, outputs, agent and user names; matching calls newest first. Records as "
                + "GET /api/search.",
            properties: [
                "query": string("Words that must all appear (case and accents ignored)."),
                "limit": integer("Calls to return, 1 to \(maximumCalls); default \(defaultCalls).", 1...maximumCalls),
            ],
            required: ["query"]),
        tool(
            "spend", title: "Spend by group",
            "Spend in USD and call counts since a time, grouped by model, agent, user, app or environment, highest "
                + "first. Blocked calls cost nothing.",
            properties: [
                "group_by": .object([
                    "type": "string", "enum": .array(SpendBreakdown.Dimension.allCases.map { .string($0.rawValue) }),
                    "description": "What to group by; default model.",
                ]),
                "since": string(timeText("Count calls at or after this time; default the start of the current UTC day")),
                "limit": integer("Groups to list, 1 to \(maximumGroups); default \(defaultGroups).", 1...maximumGroups),
            ],
            required: []),
        tool(
            "stats", title: "Usage statistics",
            "Spend, calls, tokens, errors, blocked calls and latency percentiles over a time range: totals, per time "
                + "bucket, per model and per agent. Same shape as GET /api/stats.",
            properties: [
                "since": string(timeText("Start of the range; default a day before until")),
                "until": string(timeText("End of the range; default now")),
                "bucket": .object([
                    "type": "string", "enum": ["minute", "hour", "day"],
                    "description": "Bucket width; default hour. At most \(CollectorAPI.maximumStatsBuckets) buckets.",
                ]),
            ],
            required: []),
        tool(
            "budgets", title: "Budgets and rate limits",
            "Each configured budget (session, agent, user, app, daily) with its limit and the spend and reservations "
                + "of its top keys, and each rate limit with the requests of its busiest keys in the current window.",
            properties: [
                "limit": integer("Keys to list per budget or rate limit, 1 to 500; default \(BudgetReport.defaultKeys).", 1...500)
            ],
            required: []),
    ]

    static let defaultCalls = 20
    static let maximumCalls = 200
    static let defaultSessions = 20
    static let maximumSessions = 200
    static let defaultGroups = 50
    static let maximumGroups = 1000

    private static func tool(
        _ name: String, title: String, _ description: String, properties: [String: Value], required: [String]
    ) -> Tool {
        Tool(
            name: name, title: title, description: description,
            inputSchema: .object([
                "type": "object", "properties": .object(properties), "required": .array(required.map { .string($0) }),
                "additionalProperties": false,
            ]),
            annotations: .init(
                title: title, readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false)
        )
    }

    private static func string(_ description: String) -> Value {
        .object(["type": "string", "description": .string(description)])
    }

    private static func integer(_ description: String, _ range: ClosedRange<Int>) -> Value {
        .object([
            "type": "integer", "description": .string(description), "minimum": .int(range.lowerBound),
            "maximum": .int(range.upperBound),
        ])
    }

    private static func timeText(_ what: String) -> String {
        "\(what): ISO-8601 (2026-04-03T12:00:00Z), seconds since the epoch, or a duration before now (30m, 24h, 7d)."
    }
}
