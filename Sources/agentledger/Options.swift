import ArgumentParser

/// The agent-facing listener of `sidecar`, `up` and `demo`.
struct ListenOptions: ParsableArguments {
    @Option(
        help:
            "Agent-facing address. [env: AGENTLEDGER_HOST; default \(Defaults.sidecarHost) for sidecar, \(Defaults.upHost) for up and demo]"
    )
    var host: String?
    @Option(
        help: "Agent-facing port (up and demo: also dashboard and API). [env: AGENTLEDGER_PORT; default \(Defaults.agentPort)]")
    var port: String?
}

/// Where the proxy forwards calls (`sidecar` and `up`; `demo` forwards to its own simulated upstream).
struct UpstreamOptions: ParsableArguments {
    @Option(help: "Where calls are forwarded. [env: AGENTLEDGER_UPSTREAM_URL; default \(Defaults.upstreamURL)]")
    var upstreamURL: String?
}

/// Forwarding and capture settings of the proxy half.
struct ProxyOptions: ParsableArguments {
    @Option(
        help: "Largest request body accepted, in MiB (413 above). [env: AGENTLEDGER_MAX_BODY_MB; default \(Defaults.maxBodyMB)]")
    var maxBodyMB: String?
    @Option(help: "Identity of this sidecar, stored on every record. [env: AGENTLEDGER_SOURCE; default the host name]")
    var source: String?
    @Option(
        help:
            "open: keep forwarding while the collector is away; closed: refuse with 503. [env: AGENTLEDGER_ON_COLLECTOR_DOWN; default \(Defaults.onCollectorDown)]"
    )
    var onCollectorDown: String?
    @Option(
        help:
            "How long a call waits for the collector's budget verdict. [env: AGENTLEDGER_ADMISSION_TIMEOUT_MS; default \(Defaults.admissionTimeoutMs)]"
    )
    var admissionTimeoutMs: String?
    @OptionGroup(title: "Agent connections") var agents: AgentLimitOptions
}

/// Bounds on what agents may hold open on the proxy (docs/operations.md, "Agent connections").
struct AgentLimitOptions: ParsableArguments {
    @Option(
        help:
            "Agent connections open at once; more get 503. [env: AGENTLEDGER_MAX_AGENT_CONNECTIONS; default \(Defaults.maxAgentConnections)]"
    )
    var maxAgentConnections: String?
    @Option(
        help:
            "Time for a request head to arrive, in ms (408 after). [env: AGENTLEDGER_REQUEST_HEAD_TIMEOUT_MS; default \(Defaults.requestHeadTimeoutMs)]"
    )
    var requestHeadTimeoutMs: String?
    @Option(
        help:
            "Longest pause in a request body, in ms (408 after). [env: AGENTLEDGER_REQUEST_BODY_TIMEOUT_MS; default \(Defaults.requestBodyTimeoutMs)]"
    )
    var requestBodyTimeoutMs: String?
    @Option(
        help:
            "Close agent connections idle this long, in ms. [env: AGENTLEDGER_AGENT_IDLE_TIMEOUT_MS; default \(Defaults.agentIdleTimeoutMs)]"
    )
    var agentIdleTimeoutMs: String?
    @Option(
        help:
            "Request bodies held in memory across connections, in MiB (503 above). [env: AGENTLEDGER_MAX_BUFFERED_MB; default \(Defaults.maxBufferedMB), at least the max body]"
    )
    var maxBufferedMB: String?
}

/// Where the sidecar ships records.
struct LinkOptions: ParsableArguments {
    @Option(
        help:
            "Collector ingest address, host:port, or several separated by commas, tried in order. [env: AGENTLEDGER_COLLECTOR; default \(Defaults.collector)]"
    )
    var collector: String?
    @Option(
        help:
            "TLS on the link to the collector (true, or implied by the files below). [env: AGENTLEDGER_COLLECTOR_TLS; default false]"
    )
    var collectorTls: String?
    @Option(
        help:
            "PEM CA bundle the collector's certificate is checked against. [env: AGENTLEDGER_COLLECTOR_TLS_CA; default system roots]"
    )
    var collectorTlsCa: String?
    @Option(help: "PEM client certificate chain shown to the collector. [env: AGENTLEDGER_COLLECTOR_TLS_CERT; default none]")
    var collectorTlsCert: String?
    @Option(help: "PEM private key of the client certificate. [env: AGENTLEDGER_COLLECTOR_TLS_KEY; default none]")
    var collectorTlsKey: String?
    @Option(
        help:
            "Name expected in the collector's certificate. [env: AGENTLEDGER_COLLECTOR_TLS_SERVER_NAME; default the collector host]"
    )
    var collectorTlsServerName: String?
}

/// The sidecar's durable buffer.
struct SpoolOptions: ParsableArguments {
    @Option(
        help:
            "Directory of the durable spool. [env: AGENTLEDGER_SPOOL_DIR; default \(Defaults.spoolDir), demo: \(Defaults.demoSpoolDir)]"
    )
    var spoolDir: String?
    @Option(help: "Bound of the spool in MiB. [env: AGENTLEDGER_SPOOL_MAX_MB; default \(Defaults.spoolMaxMB)]")
    var spoolMaxMB: String?
}

/// The shared secret between sidecars and the collector.
struct TokenOptions: ParsableArguments {
    @Option(help: "Shared secret sidecars present to the collector. [env: AGENTLEDGER_INGEST_TOKEN; default none]")
    var ingestToken: String?
}

/// The collector's store and ingest listener.
struct StoreOptions: ParsableArguments {
    @Option(
        help:
            "sqlite:///path or postgres://user:pw@host:port/db. [env: AGENTLEDGER_DSN; default \(Defaults.dsn), demo: \(Defaults.demoDSN)]"
    )
    var dsn: String?
    @Option(
        help:
            "postgres:// address of a read replica of that store: the API, exports and MCP read there. [env: AGENTLEDGER_READ_DSN; default none]"
    )
    var readDsn: String?
    @Option(
        help:
            "Days calls are kept; whole UTC days older than this are deleted with everything derived from them. [env: AGENTLEDGER_RETENTION_DAYS; default none, kept forever]"
    )
    var retentionDays: String?
    /// For tests only: store upkeep (partitions, retention) more often than hourly.
    @Option(
        help: ArgumentHelp(
            "Seconds between rounds of store upkeep (tests only). [env: AGENTLEDGER_MAINTENANCE_INTERVAL_S; default \(Defaults.maintenanceIntervalS)]",
            visibility: .hidden))
    var maintenanceIntervalS: String?
    @Option(help: "Ingest listener address. [env: AGENTLEDGER_INGEST_HOST; default \(Defaults.ingestHost)]")
    var ingestHost: String?
    @Option(help: "Ingest listener port. [env: AGENTLEDGER_INGEST_PORT; default \(Defaults.ingestPort)]")
    var ingestPort: String?
    @Option(help: "File of 'source-name token' lines, one token per sidecar. [env: AGENTLEDGER_INGEST_TOKENS_FILE; default none]")
    var ingestTokensFile: String?
    @Option(
        help:
            "Sidecar links open at once; more are refused. [env: AGENTLEDGER_INGEST_MAX_LINKS; default \(Defaults.ingestMaxLinks)]"
    )
    var ingestMaxLinks: String?
    @Option(
        help:
            "Links open at once before HELLO. [env: AGENTLEDGER_INGEST_MAX_UNAUTHENTICATED; default \(Defaults.ingestMaxUnauthenticated)]"
    )
    var ingestMaxUnauthenticated: String?
    @Option(
        help:
            "MiB of unfinished frames all links may hold. [env: AGENTLEDGER_INGEST_MAX_BUFFERED_MB; default \(Defaults.ingestMaxBufferedMB)]"
    )
    var ingestMaxBufferedMB: String?
    @Option(help: "PEM certificate chain: serve ingest over TLS. [env: AGENTLEDGER_INGEST_TLS_CERT; default none, plaintext]")
    var ingestTlsCert: String?
    @Option(help: "PEM private key of that certificate. [env: AGENTLEDGER_INGEST_TLS_KEY; default none]")
    var ingestTlsKey: String?
    @Option(
        help:
            "PEM CA bundle: require sidecar client certificates it issued. [env: AGENTLEDGER_INGEST_TLS_CLIENT_CA; default none]")
    var ingestTlsClientCa: String?
    @Option(
        help:
            "host:port other collectors of the same Postgres reach this one's ingest port at. [env: AGENTLEDGER_ADVERTISE_ADDRESS; default the ingest host, or this host's name, with the ingest port]"
    )
    var advertiseAddress: String?
    @Option(
        help:
            "How long the enforcer's lease lasts among collectors on one Postgres. [env: AGENTLEDGER_ENFORCER_LEASE_MS; default \(Defaults.enforcerLeaseMs)]"
    )
    var enforcerLeaseMs: String?
}

/// The collector's own HTTP listener (the `collector` command; `up` serves HTTP on its agent port).
struct HTTPOptions: ParsableArguments {
    @Option(help: "Dashboard and API address. [env: AGENTLEDGER_HTTP_HOST; default \(Defaults.httpHost)]")
    var httpHost: String?
    @Option(help: "Dashboard and API port. [env: AGENTLEDGER_HTTP_PORT; default \(Defaults.httpPort)]")
    var httpPort: String?
}

/// Budgets and rate limits the collector enforces across every sidecar (docs/operations.md, "Budgets and rate limits").
struct EnforcementOptions: ParsableArguments {
    @Option(help: "Max USD per session id, lifetime. [env: AGENTLEDGER_BUDGET_SESSION; default none]")
    var budgetSession: String?
    @Option(help: "Max USD per agent name per UTC day. [env: AGENTLEDGER_BUDGET_AGENT; default none]")
    var budgetAgent: String?
    @Option(help: "Max USD per user id per UTC day. [env: AGENTLEDGER_BUDGET_USER; default none]")
    var budgetUser: String?
    @Option(help: "Max USD per app id per UTC day. [env: AGENTLEDGER_BUDGET_APP; default none]")
    var budgetApp: String?
    @Option(help: "Max USD for everything per UTC day. [env: AGENTLEDGER_BUDGET_DAILY; default none]")
    var budgetDaily: String?
    @Option(
        help:
            "YAML or JSON file of budgets and rate limits per scope and per named agent, user, app or session, beside the variables above. [env: AGENTLEDGER_POLICY_FILE; default none]"
    )
    var policyFile: String?
    @Option(help: "Requests per minute, whole fleet. [env: AGENTLEDGER_RATE_LIMIT_RPM; default none]")
    var rateLimitRpm: String?
    @Option(help: "Requests per minute per session id. [env: AGENTLEDGER_RATE_LIMIT_SESSION_RPM; default none]")
    var rateLimitSessionRpm: String?
    @Option(help: "Requests per minute per agent name. [env: AGENTLEDGER_RATE_LIMIT_AGENT_RPM; default none]")
    var rateLimitAgentRpm: String?
    @Option(help: "Requests per minute per user id. [env: AGENTLEDGER_RATE_LIMIT_USER_RPM; default none]")
    var rateLimitUserRpm: String?
    @Option(
        help:
            "Output tokens reserved for a call without max_tokens. [env: AGENTLEDGER_ADMISSION_DEFAULT_MAX_TOKENS; default \(Defaults.admissionDefaultMaxTokens)]"
    )
    var admissionDefaultMaxTokens: String?
    @Option(
        help:
            "expected: admit while a budget has headroom and reserve the expected cost; strict: admit only what fits at worst. [env: AGENTLEDGER_ADMISSION_MODE; default \(Defaults.admissionMode)]"
    )
    var admissionMode: String?
    @Option(
        help:
            "Output tokens expected of a model with little history yet (expected mode). [env: AGENTLEDGER_ADMISSION_EXPECTED_OUTPUT_TOKENS; default \(Defaults.admissionExpectedOutputTokens)]"
    )
    var admissionExpectedOutputTokens: String?
    @Option(
        help:
            "Calls to models with no known price under a budget: admit (as free, logged), refuse, or price:IN/OUT (USD per million tokens). [env: AGENTLEDGER_UNPRICED_MODELS; default \(Defaults.unpricedModels)]"
    )
    var unpricedModels: String?
    /// For tests only: a window shorter than a minute, so a sliding window can be seen to slide.
    @Option(
        help: ArgumentHelp(
            "Length of the rate limits' sliding window, in ms (tests only). [env: AGENTLEDGER_RATE_LIMIT_WINDOW_MS; default \(Defaults.rateLimitWindowMs)]",
            visibility: .hidden))
    var rateLimitWindowMs: String?
}

/// Where alerts go and when they fire (docs/operations.md, "Alerts").
struct AlertOptions: ParsableArguments {
    @Option(help: "Webhook that receives alerts (POST, JSON). [env: AGENTLEDGER_ALERT_WEBHOOK_URL; default none]")
    var alertWebhookURL: String?
    @Option(help: "Alert when one call costs at least this many USD. [env: AGENTLEDGER_ALERT_COST_PER_CALL; default none]")
    var alertCostPerCall: String?
    @Option(help: "Alert when a call takes at least this many ms. [env: AGENTLEDGER_ALERT_LATENCY_MS; default none]")
    var alertLatencyMs: String?
    @Option(help: "Alert when a session's error rate reaches this (0..1). [env: AGENTLEDGER_ALERT_ERROR_RATE; default none]")
    var alertErrorRate: String?
    @Option(help: "Alert once a UTC day when spend reaches this many USD. [env: AGENTLEDGER_ALERT_DAILY_SPEND; default none]")
    var alertDailySpend: String?
}

/// Prices beyond (or instead of) the built-in table.
struct PricingOptions: ParsableArguments {
    @Option(help: "JSON file of extra or overriding model prices. [env: AGENTLEDGER_PRICING_FILE; default none]")
    var pricingFile: String?
}

/// Who may read the collector's data, and how exports are signed.
struct AccessOptions: ParsableArguments {
    @Option(
        help:
            "Key required on the dashboard's data, the API, /ws, /mcp and exports. [env: AGENTLEDGER_API_KEY; default none]")
    var apiKey: String?
    @Option(help: "When set, exports carry an HMAC-SHA256 signature. [env: AGENTLEDGER_EXPORT_HMAC_KEY; default none]")
    var exportHmacKey: String?
    @Option(
        help:
            "Origins besides the same origin allowed to call the API and /ws, comma-separated, or *. [env: AGENTLEDGER_ALLOWED_ORIGINS; default none]"
    )
    var allowedOrigins: String?
    @Option(
        help:
            "Host names the API answers besides IP literals and localhost (*.example.com, or *). [env: AGENTLEDGER_ALLOWED_HOSTS; default none: any with an API key]"
    )
    var allowedHosts: String?
}

/// Everything the collector half takes besides the ingest token (shared with the sidecar half in `up`).
struct CollectorOptions: ParsableArguments {
    @OptionGroup var store: StoreOptions
    @OptionGroup(title: "Access") var access: AccessOptions
    @OptionGroup(title: "Budgets and rate limits") var enforcement: EnforcementOptions
    @OptionGroup(title: "Alerts") var alerts: AlertOptions
    @OptionGroup var pricing: PricingOptions
}
