import Collector
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket

extension Runtime {
    /// Alert thresholds and the webhook; alerts are off without a webhook URL.
    static func alertConfig(_ options: AlertOptions, settings: Settings) throws -> AlertConfig {
        var config = AlertConfig()
        if settings.string(options.alertWebhookURL, "AGENTLEDGER_ALERT_WEBHOOK_URL") != nil {
            config.webhookURL = try settings.url(options.alertWebhookURL, "AGENTLEDGER_ALERT_WEBHOOK_URL", default: "")
        }
        config.costPerCall = try settings.decimal(options.alertCostPerCall, "AGENTLEDGER_ALERT_COST_PER_CALL")
        config.latencyMS = try settings.decimal(options.alertLatencyMs, "AGENTLEDGER_ALERT_LATENCY_MS")
        config.errorRate = try settings.decimal(options.alertErrorRate, "AGENTLEDGER_ALERT_ERROR_RATE", maximum: 1)
        config.dailySpend = try settings.decimal(options.alertDailySpend, "AGENTLEDGER_ALERT_DAILY_SPEND")
        do {
            try config.validate()
        } catch {
            throw ConfigurationError(description: error.description)
        }
        return config
    }

    /// The built-in prices, extended or overridden by `AGENTLEDGER_PRICING_FILE`.
    static func priceTable(_ options: PricingOptions, settings: Settings) throws -> PriceTable {
        guard let path = settings.string(options.pricingFile, "AGENTLEDGER_PRICING_FILE") else { return .builtIn }
        do {
            return try PriceTable.loading(fileAt: path)
        } catch {
            throw ConfigurationError(description: error.description)
        }
    }

    /// Budgets and rate limits from their variables and `AGENTLEDGER_POLICY_FILE`; unset is off, `0` is zero.
    static func enforcementPolicy(_ options: EnforcementOptions, settings: Settings) throws -> EnforcementPolicy {
        var policy = EnforcementPolicy()
        policy.sessionBudget = try settings.decimal(options.budgetSession, "AGENTLEDGER_BUDGET_SESSION")
        policy.agentBudget = try settings.decimal(options.budgetAgent, "AGENTLEDGER_BUDGET_AGENT")
        policy.userBudget = try settings.decimal(options.budgetUser, "AGENTLEDGER_BUDGET_USER")
        policy.appBudget = try settings.decimal(options.budgetApp, "AGENTLEDGER_BUDGET_APP")
        policy.dailyBudget = try settings.decimal(options.budgetDaily, "AGENTLEDGER_BUDGET_DAILY")
        let rpm = 0...10_000_000
        policy.globalRPM = try settings.integer(options.rateLimitRpm, "AGENTLEDGER_RATE_LIMIT_RPM", in: rpm)
        policy.sessionRPM = try settings.integer(options.rateLimitSessionRpm, "AGENTLEDGER_RATE_LIMIT_SESSION_RPM", in: rpm)
        policy.agentRPM = try settings.integer(options.rateLimitAgentRpm, "AGENTLEDGER_RATE_LIMIT_AGENT_RPM", in: rpm)
        policy.userRPM = try settings.integer(options.rateLimitUserRpm, "AGENTLEDGER_RATE_LIMIT_USER_RPM", in: rpm)
        policy.defaultMaxTokens = try settings.integer(
            options.admissionDefaultMaxTokens, "AGENTLEDGER_ADMISSION_DEFAULT_MAX_TOKENS",
            default: Defaults.admissionDefaultMaxTokens, in: 1...10_000_000)
        let mode = try settings.choice(
            options.admissionMode, "AGENTLEDGER_ADMISSION_MODE", default: Defaults.admissionMode,
            among: AdmissionMode.allCases.map(\.rawValue))
        policy.admissionMode = AdmissionMode(rawValue: mode) ?? .expected
        policy.expectedOutputTokens = try settings.integer(
            options.admissionExpectedOutputTokens, "AGENTLEDGER_ADMISSION_EXPECTED_OUTPUT_TOKENS",
            default: Defaults.admissionExpectedOutputTokens, in: 0...10_000_000)
        policy.unpriced = try unpricedRule(settings.string(options.unpricedModels, "AGENTLEDGER_UNPRICED_MODELS"))
        if let path = settings.string(options.policyFile, "AGENTLEDGER_POLICY_FILE") {
            do {
                try PolicyFile.apply(fileAt: path, to: &policy)
            } catch {
                throw ConfigurationError(description: "\(error)")
            }
        }
        // For tests only: a window shorter than a minute, so a sliding window can be seen to slide.
        if let window = try settings.integer(options.rateLimitWindowMs, "AGENTLEDGER_RATE_LIMIT_WINDOW_MS", in: 100...3_600_000) {
            policy.rateWindowMicros = Int64(window) * 1000
        }
        return policy
    }
}

extension Runtime {
    /// `admit`, `refuse`, or `price:IN/OUT` in USD per million tokens (`price:3/15`).
    static func unpricedRule(_ text: String?) throws -> UnpricedRule {
        guard let text else { return .admit }
        switch text {
        case "admit": return .admit
        case "refuse": return .refuse
        default: break
        }
        let rates = text.hasPrefix("price:") ? text.dropFirst(6).split(separator: "/", omittingEmptySubsequences: false) : []
        guard rates.count == 2, let input = Double(rates[0]), let output = Double(rates[1]),
            [input, output].allSatisfy({ $0.isFinite && $0 >= 0 && $0 <= ModelPrice.maximumRate })
        else {
            throw ConfigurationError(
                description: "AGENTLEDGER_UNPRICED_MODELS=\"\(text)\" is not valid: expected admit, refuse, or price:IN/OUT "
                    + "(USD per million input and output tokens, e.g. price:3/15)")
        }
        return .price(ModelPrice(input: input, output: output, cacheRead: input, cacheWrite: input))
    }
}

extension Runtime.CollectorParts {
    /// Everything the collector serves over HTTP, behind the API key when one is set: the API, exports, the dashboard.
    /// `extraMetrics` appends to `/metrics` after the collector's own (the sidecar half's metrics in `up`).
    func addRoutes(
        to router: Router<BasicRequestContext>, settings: Settings,
        extraMetrics: @escaping @Sendable (inout [UInt8]) -> Void = { _ in }
    ) throws {
        // OTLP ingest before the middleware: it checks its own bearer token, or the Host/Origin policy when open.
        otlpIngest?.addRoute(to: router)
        // Host and Origin first: a rebound or cross-origin page is refused before anything else looks at it.
        router.add(middleware: HostOriginMiddleware(policy: hostOriginPolicy, counters: accessCounters))
        if let apiKey {
            // The dashboard's page and assets load without the key so the page can ask for it; its data cannot.
            router.add(middleware: APIKeyMiddleware(key: apiKey, openPaths: ["/healthz", "/readyz", "/", "/assets/*", "/ws"]))
        }
        var api = self.api
        api.extraMetrics = extraMetrics
        api.addRoutes(to: router)
        let reads: any Store = readStore ?? store
        ExportRoutes(store: reads, hmacKey: exportHMACKey, version: AgentLedger.configuration.version).addRoutes(to: router)
        BudgetRoutes(enforcer: enforcer, editor: policyEditor).addRoutes(to: router)
        let tools = MCPTools(store: reads, budgets: .live(enforcer))
        MCPRoutes(sessions: MCPSessions { await MCPServerFactory.make(tools: tools, version: AgentLedger.configuration.version) })
            .addRoutes(to: router)
        DashboardRoutes.add(to: router)
    }

    /// The live feed's WebSocket route. It has its own router: browsers cannot send a header on a WebSocket, so it
    /// authenticates with the key in its first message instead of the middleware.
    func webSocketServer() -> HTTPServerBuilder {
        let router = Router(context: BasicWebSocketRequestContext.self)
        liveFeed.addRoute(to: router, apiKey: apiKey, policy: hostOriginPolicy, counters: accessCounters)
        return .http1WebSocketUpgrade(webSocketRouter: router)
    }
}
