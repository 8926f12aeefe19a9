import Collector
import Foundation
import Hummingbird
import LedgerAdmission
import LedgerProtocol
import Logging
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle
import Sidecar
import Synchronization

/// Builds the services of each mode from validated settings. The one place where modules are wired together.
enum Runtime {
    /// The collector half: store, ingest listener and API.
    struct CollectorParts {
        var store: any Store
        var counters: CollectorCounters
        var ingest: IngestServer
        var api: CollectorAPI
        var enforcer: Enforcer
        var alerting: Alerting?
        /// `AGENTLEDGER_API_KEY`: nil leaves the API open.
        var apiKey: APIKey?
        var liveFeed: LiveFeed
        var exportHMACKey: String?
        /// `AGENTLEDGER_ALLOWED_ORIGINS` and `AGENTLEDGER_ALLOWED_HOSTS`, applied to every HTTP path but the probes.
        var hostOriginPolicy: HostOriginPolicy
        /// Host and Origin refusals, in the registry of `counters`.
        var accessCounters: AccessCounters
        /// Sends a span per stored call when an OTLP endpoint is set (docs/operations.md, "OpenTelemetry export").
        var otlpExporter: OTLPExporter? = nil
        /// `POST /v1/traces`: spans from instrumented agents recorded as calls.
        var otlpIngest: OTLPIngestRoute? = nil
        /// On Postgres: the calls other collectors of the store stored, for this one's budgets and live feed.
        var replicaFeed: ReplicaFeed? = nil
        /// Changes budgets and rate limits at run time (`PUT /api/budgets/...`).
        var policyEditor: PolicyEditor? = nil
        /// `AGENTLEDGER_READ_DSN`: a read replica of the Postgres store, where the API, exports and MCP read; a
        /// `Service` (its pool), run before the others.
        var readStore: PostgresStore? = nil
        /// On Postgres: the election of one enforcer among the collectors of the store, and a follower's link to it.
        var election: EnforcerElection? = nil
        var forwarder: EnforcerForwarder? = nil
        /// Writes what this collector knows of its sidecars for the fleet view.
        var fleet: FleetRegistry? = nil
        /// The Postgres day partitions and `AGENTLEDGER_RETENTION_DAYS`.
        var maintenance: StoreMaintenance? = nil

        /// The collector's long-running parts after the store: ingest, the enforcement sweeper, alert delivery.
        var services: [any Service] {
            // The exporter stops last of these (services stop in reverse), so the last committed calls still go out.
            var services: [any Service] = []
            if let readStore { services.append(readStore) }
            if let otlpExporter { services.append(otlpExporter) }
            if let replicaFeed { services.append(replicaFeed) }
            if let election { services.append(election) }
            if let forwarder { services.append(forwarder) }
            // Before ingest, so it stops after it and writes that the last links closed.
            if let fleet { services.append(fleet) }
            if let maintenance { services.append(maintenance) }
            services += [ingest, enforcer]
            if let alerting { services.append(alerting.dispatcher) }
            if let tokens = ingest.configuration.tokens {
                services.append(IngestTokensReloader(tokens: tokens, logger: Runtime.logger("agentledger.ingest")))
            }
            return services
        }
        /// The DSN as it may be printed: without its password.
        var dsn: String
    }

    /// The sidecar half: proxy responder, shipper, link.
    struct SidecarParts {
        /// The agent-facing proxy's shared parts, for `ProxyServer`.
        var core: ProxyCore
        var link: CollectorLink
        var admission: AdmissionClient
        var configuration: ProxyConfiguration
    }

    static func logger(_ label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        return logger
    }

    /// `listeners`: the command's other listeners, bound together with the ingest port before the store opens
    /// (`ListenerCheck`), so a taken port leaves nothing to tear down.
    static func collector(
        _ all: CollectorOptions, token: TokenOptions, settings: Settings, listeners: [Listener] = [], logger: Logger
    ) async throws -> CollectorParts {
        let options = all.store
        let policy = try enforcementPolicy(all.enforcement, settings: settings)
        let alertConfig = try self.alertConfig(all.alerts, settings: settings)
        let prices = try priceTable(all.pricing, settings: settings)
        let apiKey = APIKey(secret: settings.string(all.access.apiKey, "AGENTLEDGER_API_KEY"))
        let exportHMACKey = settings.string(all.access.exportHmacKey, "AGENTLEDGER_EXPORT_HMAC_KEY")
        let hostOriginPolicy: HostOriginPolicy
        do {
            hostOriginPolicy = try HostOriginPolicy(
                allowedOrigins: settings.string(all.access.allowedOrigins, "AGENTLEDGER_ALLOWED_ORIGINS"),
                allowedHosts: settings.string(all.access.allowedHosts, "AGENTLEDGER_ALLOWED_HOSTS"), apiKeySet: apiKey != nil)
        } catch {
            throw ConfigurationError(description: error.description)
        }
        let dsn = settings.string(options.dsn, "AGENTLEDGER_DSN", default: Defaults.dsn)
        let retention = try self.retention(options, settings: settings)
        let maintenanceInterval = try settings.integer(
            options.maintenanceIntervalS, "AGENTLEDGER_MAINTENANCE_INTERVAL_S", default: Defaults.maintenanceIntervalS,
            in: 1...86_400)
        let otlpExport = try otlpExport(settings: settings)
        let otlpMaxBodyBytes =
            try settings.integer(nil, "AGENTLEDGER_OTLP_MAX_BODY_MB", default: Defaults.otlpMaxBodyMB, in: 1...1024) << 20
        var ingest = IngestServer.Configuration()
        ingest.host = settings.string(options.ingestHost, "AGENTLEDGER_INGEST_HOST", default: Defaults.ingestHost)
        ingest.port = try settings.port(options.ingestPort, "AGENTLEDGER_INGEST_PORT", default: Defaults.ingestPort)
        ingest.ingestToken = settings.string(token.ingestToken, "AGENTLEDGER_INGEST_TOKEN")
        ingest.maxLinks = try settings.integer(
            options.ingestMaxLinks, "AGENTLEDGER_INGEST_MAX_LINKS", default: Defaults.ingestMaxLinks, in: 1...1_000_000)
        ingest.maxUnauthenticatedLinks = try settings.integer(
            options.ingestMaxUnauthenticated, "AGENTLEDGER_INGEST_MAX_UNAUTHENTICATED",
            default: Defaults.ingestMaxUnauthenticated, in: 1...1_000_000)
        ingest.maxBufferedBytes =
            try settings.integer(
                options.ingestMaxBufferedMB, "AGENTLEDGER_INGEST_MAX_BUFFERED_MB", default: Defaults.ingestMaxBufferedMB,
                in: 1...1_048_576) << 20
        if let path = settings.string(options.ingestTokensFile, "AGENTLEDGER_INGEST_TOKENS_FILE") {
            do {
                ingest.tokens = try IngestTokens(path: path)
            } catch {
                throw ConfigurationError(description: "AGENTLEDGER_INGEST_TOKENS_FILE: \(error)")
            }
        }
        try applyIngestTLS(options, to: &ingest, settings: settings)
        ingest.collectorID = ProcessInfo.processInfo.hostName
        let ingestListener = Listener(
            portVariable: "AGENTLEDGER_INGEST_PORT", hostVariable: "AGENTLEDGER_INGEST_HOST", host: ingest.host,
            port: ingest.port)
        try await ListenerCheck.check(listeners + [ingestListener])

        // This process among the collectors of one Postgres: the host name alone is not unique (two on one machine).
        let replicaID =
            "\(ProcessInfo.processInfo.hostName)/\(ProcessInfo.processInfo.processIdentifier)/\(UInt32.random(in: 0...UInt32.max))"
        let store = try await openStore(dsn: dsn, replicaID: replicaID, retention: retention, logger: logger)
        let postgres = store as? PostgresStore
        let readStore = try readReplica(options, primary: postgres, settings: settings, logger: logger)
        // Collectors on one Postgres elect one enforcer; until this one knows who it is, it answers no ADMIT.
        let leadership = postgres == nil ? Leadership.sole() : Leadership(.follower(enforcer: nil, epoch: 0))
        // One registry for every metric of this collector instance (docs/operations.md, "Metrics"); `up`'s sidecar
        // half has its own, so the two never mix in one process.
        let registry = PrometheusCollectorRegistry()
        let counters = CollectorCounters(registry: registry)
        let alerting = Alerting(config: alertConfig, registry: registry, logger: logger)
        let enforcer = Enforcer(
            policy: policy, prices: prices, store: store, registry: registry, logger: logger, leadership: leadership,
            onThresholds: { [alerting] crossings in alerting?.observe(crossings) })
        let election = try postgres.map {
            EnforcerElection(
                configuration: try electionConfiguration(
                    options, replicaID: replicaID, ingest: ingest, settings: settings),
                store: $0, enforcer: enforcer, registry: registry, logger: logger)
        }
        let forwarder = try postgres.map { _ in
            EnforcerForwarder(
                leadership: leadership, ingestToken: ingest.ingestToken, tls: try replicaTLS(options, settings: settings),
                timeout: .milliseconds(
                    try settings.integer(
                        nil, "AGENTLEDGER_ADMISSION_TIMEOUT_MS", default: Defaults.admissionTimeoutMs, in: 1...60_000)),
                counters: enforcer.counters, logger: logger)
        }
        // Limits changed at run time tell the sidecars when admission turns on or off, through the ingest server.
        let ingestServer = Box<IngestServer>()
        let policyEditor = PolicyEditor(
            configured: policy, store: store, enforcer: enforcer, logger: logger,
            announce: { ingestServer.value?.announceAdmission() })
        // Budgets (those configured and any set later at run time) and the daily-spend alert start from what the store
        // says today has spent, with the limits stored at run time applied. Read once the services run (a Postgres
        // store answers only then) and before the first sidecar is served.
        let seedToday: @Sendable () async throws -> Void = { @Sendable [logger] in
            try await policyEditor.load()
            let dayStart = SpendLedger.dayStart(of: WallClock.nowMicros())
            var today = try await enforcer.seedSpend()
            if today == nil, alerting != nil { today = try await store.spend(sinceMicros: dayStart) }
            if let today {
                alerting?.seedDailySpend(dayStartMicros: dayStart, amount: today.total)
                logger.info("today's spend read from the store", metadata: ["usd": "\(today.total)"])
            }
        }
        let liveFeed = LiveFeed()
        let otlpExporter = otlpExport.map {
            OTLPExporter(configuration: $0, version: AgentLedger.configuration.version, counters: counters, logger: logger)
        }
        var pipeline = IngestPipeline(
            normalizer: Normalizer(prices: prices), store: store, counters: counters, enforcer: enforcer,
            alerting: alerting, liveFeed: liveFeed, unpricedModels: UnpricedModels(logger: logger))
        pipeline.otlpExporter = otlpExporter
        pipeline.storageThread = (store as? SQLiteStore)?.storageThread
        let otlpIngest = OTLPIngestRoute(
            pipeline: pipeline, counters: counters,
            access: otlpIngestAccess(
                ingestToken: ingest.ingestToken, tokensFile: ingest.tokens != nil, apiKey: apiKey,
                hostOriginPolicy: hostOriginPolicy),
            maxBodyBytes: otlpMaxBodyBytes, logger: logger)
        let fleet = FleetRegistry(store: store, collectorID: ingest.collectorID, logger: logger)
        let server: IngestServer
        do {
            server = try await IngestServer.bind(
                configuration: ingest, pipeline: pipeline, counters: counters, enforcer: enforcer, forwarder: forwarder,
                fleet: fleet, beforeAccepting: seedToday, logger: logger)
            ingestServer.value = server
        } catch {
            try? await store.close()
            throw ConfigurationError(description: ListenerCheck.message(for: error, listener: ingestListener))
        }
        return CollectorParts(
            store: store, counters: counters, ingest: server,
            api: CollectorAPI(store: store, reads: readStore, counters: counters),
            enforcer: enforcer, alerting: alerting, apiKey: apiKey, liveFeed: liveFeed, exportHMACKey: exportHMACKey,
            hostOriginPolicy: hostOriginPolicy, accessCounters: AccessCounters(registry: registry),
            otlpExporter: otlpExporter, otlpIngest: otlpIngest,
            replicaFeed: postgres.map {
                ReplicaFeed(
                    store: $0, replicaID: replicaID, enforcer: enforcer, liveFeed: liveFeed, alerting: alerting,
                    policyEditor: policyEditor, counters: counters, logger: logger)
            },
            policyEditor: policyEditor, readStore: readStore, election: election, forwarder: forwarder, fleet: fleet,
            maintenance: StoreMaintenance(
                store: store, retention: retention, interval: .seconds(maintenanceInterval), counters: counters,
                logger: Runtime.logger("agentledger.store")),
            dsn: (try? PostgresDSN(dsn).redacted) ?? dsn)
    }

    /// `AGENTLEDGER_RETENTION_DAYS`: nil keeps calls forever.
    static func retention(_ options: StoreOptions, settings: Settings) throws -> Retention? {
        guard let days = try settings.decimal(options.retentionDays, "AGENTLEDGER_RETENTION_DAYS", maximum: 36_500)
        else { return nil }
        guard let retention = Retention(days: days) else {
            throw ConfigurationError(
                description:
                    "AGENTLEDGER_RETENTION_DAYS=\(days) would delete every call: set a number of days above 0, or leave it unset to keep calls forever"
            )
        }
        return retention
    }

    /// Opens and migrates the store `dsn` names. A Postgres store is also a `Service`: the caller runs it in the
    /// service group (first, so it stops last), or it cannot serve anything but its migrations.
    /// `replicaID`: a Postgres store announces the calls it stores under this id to the other collectors on it.
    static func openStore(
        dsn: String, replicaID: String? = nil, retention: Retention? = nil, logger: Logger
    ) async throws -> any Store {
        if dsn.hasPrefix("postgres://") || dsn.hasPrefix("postgresql://") {
            let address: PostgresDSN
            do {
                address = try PostgresDSN(dsn)
            } catch {
                throw ConfigurationError(description: "AGENTLEDGER_DSN is not a valid Postgres address: \(error)")
            }
            var options = PostgresStore.Options()
            options.replicaID = replicaID
            options.retention = retention
            let store = PostgresStore(dsn: address, options: options, logger: logger)
            do {
                try await store.migrate()
            } catch {
                throw ConfigurationError(description: "AGENTLEDGER_DSN: \(error)")
            }
            return store
        }
        let path: String
        if dsn.hasPrefix("sqlite:///") {
            path = String(dsn.dropFirst("sqlite:///".count))
        } else if dsn.hasPrefix("sqlite://") || dsn.hasPrefix("sqlite:") {
            throw ConfigurationError(description: "AGENTLEDGER_DSN='\(dsn)' is not valid: write sqlite:///path/to/file.db")
        } else {
            throw ConfigurationError(
                description: "AGENTLEDGER_DSN has an unknown scheme: expected sqlite:///path or postgres://user:pw@host:port/db")
        }
        guard !path.isEmpty else {
            throw ConfigurationError(description: "AGENTLEDGER_DSN='\(dsn)' names no file: write sqlite:///path/to/file.db")
        }
        // Below the proxy's threads while storage keeps up (`up` shares one core between them; docs/operations.md).
        let thread = StorageThread(priority: .idle)
        do {
            let store = try await SQLiteStore.open(path: path, storageThread: thread, logger: logger)
            try await store.migrate()
            return store
        } catch {
            try? await thread.shutdown()
            throw ConfigurationError(description: "AGENTLEDGER_DSN: cannot open the SQLite store at \(path): \(error)")
        }
    }

    /// The sidecar half's settings, resolved and validated before anything is opened.
    struct SidecarSettings {
        var proxy = ProxyConfiguration()
        var collectors: [CollectorLink.Address] = [.init(host: Defaults.collectorHost, port: Defaults.ingestPort)]
        var ingestToken: String?
        var collectorTLS: CollectorLink.TLS?
        var admissionTimeout: Duration = .milliseconds(Defaults.admissionTimeoutMs)
        var statusInterval: Duration = .seconds(10)
        var limits = ShipperState.Limits()
        var spool = Spool.Configuration(directory: Defaults.spoolDir)
    }

    static func sidecarSettings(
        _ proxyOptions: ProxyOptions, upstreamURL: String?, link linkOptions: LinkOptions?, spool spoolOptions: SpoolOptions,
        token: TokenOptions, settings: Settings
    ) throws -> SidecarSettings {
        var resolved = SidecarSettings()
        var proxy = resolved.proxy
        proxy.upstreamURL = try settings.url(upstreamURL, "AGENTLEDGER_UPSTREAM_URL", default: Defaults.upstreamURL)
        proxy.maxBodyBytes =
            try settings.integer(proxyOptions.maxBodyMB, "AGENTLEDGER_MAX_BODY_MB", default: Defaults.maxBodyMB, in: 1...4096)
            << 20
        proxy.maxCapturedResponseBytes = min(proxy.maxBodyBytes, (WireFormat.defaultMaxFrameBytes - (1 << 20)) / 2)
        proxy.source = settings.string(proxyOptions.source, "AGENTLEDGER_SOURCE", default: ProcessInfo.processInfo.hostName)
        proxy.refuseWhenCollectorDown =
            try settings.choice(
                proxyOptions.onCollectorDown, "AGENTLEDGER_ON_COLLECTOR_DOWN", default: Defaults.onCollectorDown,
                among: ["open", "closed"])
            == "closed"
        try applyAgentLimits(proxyOptions.agents, to: &proxy, settings: settings)
        resolved.proxy = proxy
        resolved.admissionTimeout = .milliseconds(
            try settings.integer(
                proxyOptions.admissionTimeoutMs, "AGENTLEDGER_ADMISSION_TIMEOUT_MS", default: Defaults.admissionTimeoutMs,
                in: 1...60_000))
        resolved.statusInterval = .milliseconds(
            try settings.integer(nil, "AGENTLEDGER_STATUS_INTERVAL_MS", default: 10_000, in: 100...3_600_000))
        if let linkOptions {
            resolved.collectors = try settings.addresses(
                linkOptions.collector, "AGENTLEDGER_COLLECTOR", default: Defaults.collector
            )
            .map { CollectorLink.Address(host: $0.host, port: $0.port) }
            resolved.collectorTLS = try collectorTLS(linkOptions, settings: settings)
        }
        resolved.spool = Spool.Configuration(
            directory: settings.string(spoolOptions.spoolDir, "AGENTLEDGER_SPOOL_DIR", default: Defaults.spoolDir),
            maxBytes: try settings.integer(
                spoolOptions.spoolMaxMB, "AGENTLEDGER_SPOOL_MAX_MB", default: Defaults.spoolMaxMB, in: 1...1_048_576) << 20)
        resolved.ingestToken = settings.string(token.ingestToken, "AGENTLEDGER_INGEST_TOKEN")
        return resolved
    }

    /// `servesMetrics`: the proxy answers `/agentledger/metrics` itself (`sidecar`); `up` serves it behind the API key.
    static func sidecar(_ resolved: SidecarSettings, servesMetrics: Bool = true, logger: Logger) throws -> SidecarParts {
        let spool: Spool
        do {
            spool = try Spool(configuration: resolved.spool)
        } catch {
            throw ConfigurationError(description: "AGENTLEDGER_SPOOL_DIR: cannot use \(resolved.spool.directory): \(error)")
        }
        if spool.recoveredRecords > 0 || spool.truncatedBytes > 0 {
            logger.info(
                "spool recovered",
                metadata: ["records": "\(spool.recoveredRecords)", "torn_bytes_cut": "\(spool.truncatedBytes)"])
        }
        // One registry for every metric of this sidecar instance (docs/operations.md, "Metrics").
        let registry = PrometheusCollectorRegistry()
        let shipper = Shipper(limits: resolved.limits, spool: spool, registry: registry, logger: logger)
        let admission = AdmissionClient(timeout: resolved.admissionTimeout, registry: registry)
        var linkConfiguration = CollectorLink.Configuration(
            addresses: resolved.collectors, source: resolved.proxy.source, ingestToken: resolved.ingestToken)
        linkConfiguration.tls = resolved.collectorTLS
        linkConfiguration.statusInterval = resolved.statusInterval
        let link = CollectorLink(configuration: linkConfiguration, shipper: shipper, admission: admission, logger: logger)
        return SidecarParts(
            core: try ProxyCore(
                configuration: resolved.proxy, shipper: shipper, admission: admission, logger: logger,
                servesMetrics: servesMetrics),
            link: link, admission: admission, configuration: resolved.proxy)
    }

    /// Runs the services until SIGTERM or SIGINT, shutting them down in reverse order: gracefully for at most
    /// `ShutdownDeadline.grace`, then cancelled; the process ends by `ShutdownDeadline.limit` whatever happens.
    static func run(_ services: [any Service], logger: Logger) async throws {
        var configuration = ServiceGroupConfiguration(
            services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = ShutdownDeadline.grace
        let deadline = ShutdownDeadline()
        try await ServiceGroup(configuration: configuration).run()
        withExtendedLifetime(deadline) {}
    }
}

/// A value set once after the closures that read it were made (the ingest server, bound after the policy editor that
/// tells it of changes).
final class Box<Value: Sendable>: Sendable {
    private let stored = Mutex<Value?>(nil)

    var value: Value? {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }
}
