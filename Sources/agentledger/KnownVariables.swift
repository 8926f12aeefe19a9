import Foundation
import Logging

/// The `AGENTLEDGER_*` variables agentledger knows, and a warning for each other one in the environment: a typo such
/// as `AGENTLEDGER_BUGDET_DAILY=5` would otherwise be ignored without a word, leaving the budget off.
enum KnownVariables {
    static let prefix = "AGENTLEDGER_"

    /// Every setting's variable: the one list of them. Each is an option's `[env: …]` in `Options.swift` (or a
    /// command's own option); `Settings` asserts in debug builds that each variable it reads is here, and the
    /// end-to-end tests that every variable the help names is. Not read from the parsed option declarations: building
    /// every command's argument tree at each start took a second in a debug build.
    static let settings: Set<String> = [
        // ListenOptions, UpstreamOptions, ProxyOptions
        "AGENTLEDGER_HOST", "AGENTLEDGER_PORT", "AGENTLEDGER_UPSTREAM_URL", "AGENTLEDGER_MAX_BODY_MB", "AGENTLEDGER_SOURCE",
        "AGENTLEDGER_ON_COLLECTOR_DOWN", "AGENTLEDGER_ADMISSION_TIMEOUT_MS", "AGENTLEDGER_STATUS_INTERVAL_MS",
        // AgentLimitOptions
        "AGENTLEDGER_MAX_AGENT_CONNECTIONS", "AGENTLEDGER_REQUEST_HEAD_TIMEOUT_MS", "AGENTLEDGER_REQUEST_BODY_TIMEOUT_MS",
        "AGENTLEDGER_AGENT_IDLE_TIMEOUT_MS", "AGENTLEDGER_MAX_BUFFERED_MB",
        // LinkOptions, SpoolOptions, TokenOptions
        "AGENTLEDGER_COLLECTOR", "AGENTLEDGER_COLLECTOR_TLS", "AGENTLEDGER_COLLECTOR_TLS_CA", "AGENTLEDGER_COLLECTOR_TLS_CERT",
        "AGENTLEDGER_COLLECTOR_TLS_KEY", "AGENTLEDGER_COLLECTOR_TLS_SERVER_NAME", "AGENTLEDGER_SPOOL_DIR",
        "AGENTLEDGER_SPOOL_MAX_MB", "AGENTLEDGER_INGEST_TOKEN",
        // StoreOptions, HTTPOptions
        "AGENTLEDGER_DSN", "AGENTLEDGER_READ_DSN", "AGENTLEDGER_INGEST_HOST", "AGENTLEDGER_INGEST_PORT",
        "AGENTLEDGER_INGEST_TOKENS_FILE", "AGENTLEDGER_RETENTION_DAYS", "AGENTLEDGER_MAINTENANCE_INTERVAL_S",
        "AGENTLEDGER_INGEST_MAX_LINKS", "AGENTLEDGER_INGEST_MAX_UNAUTHENTICATED", "AGENTLEDGER_INGEST_MAX_BUFFERED_MB",
        "AGENTLEDGER_INGEST_TLS_CERT", "AGENTLEDGER_INGEST_TLS_KEY", "AGENTLEDGER_INGEST_TLS_CLIENT_CA",
        "AGENTLEDGER_ADVERTISE_ADDRESS", "AGENTLEDGER_ENFORCER_LEASE_MS", "AGENTLEDGER_HTTP_HOST", "AGENTLEDGER_HTTP_PORT",
        // EnforcementOptions (the window is a hidden option, for tests)
        "AGENTLEDGER_BUDGET_SESSION", "AGENTLEDGER_BUDGET_AGENT", "AGENTLEDGER_BUDGET_USER", "AGENTLEDGER_BUDGET_APP",
        "AGENTLEDGER_BUDGET_DAILY",
        "AGENTLEDGER_POLICY_FILE", "AGENTLEDGER_RATE_LIMIT_RPM", "AGENTLEDGER_RATE_LIMIT_SESSION_RPM",
        "AGENTLEDGER_RATE_LIMIT_AGENT_RPM",
        "AGENTLEDGER_RATE_LIMIT_USER_RPM", "AGENTLEDGER_ADMISSION_DEFAULT_MAX_TOKENS",
        "AGENTLEDGER_ADMISSION_MODE", "AGENTLEDGER_ADMISSION_EXPECTED_OUTPUT_TOKENS", "AGENTLEDGER_UNPRICED_MODELS",
        "AGENTLEDGER_RATE_LIMIT_WINDOW_MS",
        // AlertOptions, PricingOptions, AccessOptions (verify-export reads the HMAC key too)
        "AGENTLEDGER_ALERT_WEBHOOK_URL", "AGENTLEDGER_ALERT_COST_PER_CALL", "AGENTLEDGER_ALERT_LATENCY_MS",
        "AGENTLEDGER_ALERT_ERROR_RATE", "AGENTLEDGER_ALERT_DAILY_SPEND", "AGENTLEDGER_PRICING_FILE", "AGENTLEDGER_API_KEY",
        "AGENTLEDGER_EXPORT_HMAC_KEY", "AGENTLEDGER_ALLOWED_ORIGINS", "AGENTLEDGER_ALLOWED_HOSTS",
        // OpenTelemetry export and ingest (environment only)
        "AGENTLEDGER_OTEL_ENDPOINT", "AGENTLEDGER_OTEL_HEADERS", "AGENTLEDGER_OTEL_SERVICE_NAME", "AGENTLEDGER_OTEL_PROTOCOL",
        "AGENTLEDGER_OTEL_CAPTURE_CONTENT", "AGENTLEDGER_OTEL_GZIP", "AGENTLEDGER_OTEL_BATCH_SIZE",
        "AGENTLEDGER_OTEL_BATCH_DELAY_MS", "AGENTLEDGER_OTEL_QUEUE_SIZE", "AGENTLEDGER_OTEL_TIMEOUT_MS",
        "AGENTLEDGER_OTLP_MAX_BODY_MB",
    ]

    /// Variables of the project's own tests and benchmarks, which reach the binary in the environment they run it in.
    static let tooling: Set<String> = [
        "AGENTLEDGER_BIN", "AGENTLEDGER_CHAOS_SECONDS", "AGENTLEDGER_STORAGE_REPORT",
    ]
    /// `AGENTLEDGER_TEST_*`: the test suites' own variables (a Postgres to test against, where logs go).
    static let toolingPrefix = "AGENTLEDGER_TEST_"

    /// One line per `AGENTLEDGER_*` variable of `environment` that is neither a setting nor the tooling's, sorted,
    /// naming the closest setting when one is near enough to be a typo of it.
    static func warnings(environment: [String: String]) -> [String] {
        let unknown = environment.keys.filter {
            $0.hasPrefix(prefix) && !$0.hasPrefix(toolingPrefix) && !tooling.contains($0) && !settings.contains($0)
        }
        return unknown.sorted().map { name in
            if let suggestion = closest(to: name) {
                return "\(name) is not a setting of agentledger; did you mean \(suggestion)?"
            }
            return "\(name) is not a setting of agentledger; `agentledger help <subcommand>` lists them"
        }
    }

    /// Logs the warnings at start-up; the command goes on.
    static func warnAboutUnknown(
        environment: [String: String] = ProcessInfo.processInfo.environment, logger: Logger = Runtime.logger("agentledger")
    ) {
        guard environment.keys.contains(where: { $0.hasPrefix(prefix) }) else { return }
        for line in warnings(environment: environment) { logger.warning("\(line)") }
    }

    /// The setting nearest to `name` by edit distance (a swap of two neighbours counts as one edit), if it is within
    /// a third of the name after the prefix (at least 2 edits), ties going to the first in alphabetical order.
    static func closest(to name: String) -> String? {
        let target = Array(name.utf8)
        let allowed = max(2, (target.count - prefix.utf8.count) / 3)
        var best: (name: String, distance: Int)?
        for candidate in settings.sorted() {
            let distance = editDistance(target, Array(candidate.utf8))
            if distance <= allowed, distance < best?.distance ?? .max { best = (candidate, distance) }
        }
        return best?.name
    }

    /// Optimal string alignment distance: insertions, deletions, substitutions and swaps of adjacent characters.
    static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], previous2[j - 2] + 1)
                }
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count]
    }
}
