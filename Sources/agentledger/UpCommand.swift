import ArgumentParser
import Collector
import Hummingbird
import LedgerMetrics
import NIOCore
import ServiceLifecycle
import Sidecar

/// Collector and sidecar in one process on one port: the single-machine mode.
struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Run the proxy, collector, API and store in one process (SQLite file or Postgres, per --dsn).")

    @OptionGroup var listen: ListenOptions
    @OptionGroup var upstream: UpstreamOptions
    @OptionGroup var proxy: ProxyOptions
    @OptionGroup var spool: SpoolOptions
    @OptionGroup var collectorOptions: CollectorOptions
    @OptionGroup var token: TokenOptions

    func run() async throws {
        KnownVariables.warnAboutUnknown()
        try await withConfigurationErrors {
            let both = BothHalves(
                listen: listen, upstreamURL: upstream.upstreamURL, proxy: proxy, spool: spool,
                collectorOptions: collectorOptions, token: token)
            try await both.serve(banner: "AgentLedger up")
        }
    }
}

/// What `up` and `demo` run: both halves in one process, the dashboard and API on the agent port.
struct BothHalves {
    var listen: ListenOptions
    /// `--upstream-url`; `demo` has none, it sets `AGENTLEDGER_UPSTREAM_URL` to its simulated upstream.
    var upstreamURL: String?
    var proxy: ProxyOptions
    var spool: SpoolOptions
    var collectorOptions: CollectorOptions
    var token: TokenOptions

    /// The in-process dashboard server, on a loopback port of its own, for messages.
    static let dashboardListener = Listener(
        portVariable: "the internal dashboard listener", hostVariable: "the internal dashboard listener",
        host: "127.0.0.1", port: 0)

    /// How the sidecar half ships to the collector half. The collector is a loopback hop away, and while storage is
    /// behind the records wait in the spool on disk, so memory holds little: 1 MiB of records and two batches of 128 in
    /// flight, against a remote sidecar's 8 MiB and four of 256. That halved `up`'s heap at its peak under overload
    /// (39 to 19 MiB, docs/benchmarks.md, issue 20).
    static let shipping: ShipperState.Limits = {
        var limits = ShipperState.Limits()
        limits.maxQueuedBytes = 1 << 20
        limits.maxInFlight = 2
        limits.maxBatchCount = 128
        return limits
    }()

    /// Runs both halves until SIGTERM. `demo` passes its simulated upstream and a task to start once serving, which
    /// learns the agent port and where simulated sidecars can link (nil when the ingest port speaks TLS).
    func serve(
        banner: String, settings: Settings = Settings(), extraServices: [any Service] = [],
        whenServing: @escaping @Sendable (_ port: Int, _ ingest: DemoFleet.Ingest?) -> Void = { _, _ in }
    ) async throws {
        let logger = Runtime.logger("agentledger")
        await ProxyThreads.requestShortSlices()
        let host = settings.string(listen.host, "AGENTLEDGER_HOST", default: Defaults.upHost)
        let port = try settings.port(listen.port, "AGENTLEDGER_PORT", default: Defaults.agentPort)
        // The proxy's settings are checked before the store opens, so a typo never leaves files behind.
        var sidecarSettings = try Runtime.sidecarSettings(
            proxy, upstreamURL: upstreamURL, link: nil, spool: spool, token: token, settings: settings)
        try Runtime.checkUpIngestTLS(collectorOptions.store, settings: settings)
        // Every listener is bound once before the store opens: a taken port is one line and exit 2 (`ListenerCheck`).
        let agent = Listener(portVariable: "AGENTLEDGER_PORT", hostVariable: "AGENTLEDGER_HOST", host: host, port: port)
        let collector = try await Runtime.collector(
            collectorOptions, token: token, settings: settings, listeners: [agent], logger: logger)
        // The sidecar half reaches the collector half over loopback TCP, the same path a remote sidecar takes.
        let ingestHost = collector.ingest.configuration.host
        sidecarSettings.collectors = [
            .init(host: ingestHost == "0.0.0.0" || ingestHost == "::" ? "127.0.0.1" : ingestHost, port: collector.ingest.port)
        ]
        sidecarSettings.collectorTLS = try Runtime.loopbackTLS(for: collector.ingest.configuration)
        sidecarSettings.limits = Self.shipping
        let sidecar = try Runtime.sidecar(sidecarSettings, servesMetrics: false, logger: logger)
        let loopbackIngest =
            sidecarSettings.collectorTLS == nil
            ? sidecarSettings.collectors.first.map {
                DemoFleet.Ingest(host: $0.host, port: $0.port, token: sidecarSettings.ingestToken)
            } : nil

        let router = Router()
        // `/metrics` is the collector half's registry, then the sidecar half's: one exposition, two registries.
        let sidecarMetrics = sidecar.core.metrics
        try collector.addRoutes(to: router, settings: settings, extraMetrics: { sidecarMetrics.emit(into: &$0) })
        // The sidecar half's own metrics path is the dashboard server's too, so the API key guards it (issue 14 item 12).
        router.get(RouterPath(stringLiteral: String(SidecarMetrics.path.dropFirst()))) { _, _ in
            var text: [UInt8] = []
            sidecarMetrics.emit(into: &text)
            return Response(
                status: .ok, headers: [.contentType: prometheusContentType],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: text)))
        }
        // The dashboard and API listen on loopback only; the proxy's port hands their paths to it (`LocalRoutes`).
        let apiPort = ListeningPort()
        let proxyListening = ListeningPort()
        let api = Application(
            router: router, server: collector.webSocketServer(),
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0), serverName: nil),
            onServerRunning: { apiPort.fill($0.localAddress?.port) }, logger: logger)
        let server = ProxyServer(
            host: host, port: port, core: sidecar.core,
            local: {
                try LocalRoutes(port: try await apiPort.value()) {
                    CollectorAPI.owns(path: String($0)) || $0 == SidecarMetrics.path || $0 == OTLPIngestRoute.path
                }
            },
            onListening: { bound in
                FileHandleOutput.standardOutput(
                    """
                    \(banner)
                      proxy      http://\(host):\(bound)  ->  \(sidecar.configuration.upstreamURL)
                      dashboard  http://\(host == "0.0.0.0" ? "localhost" : host):\(bound)/
                      ingest     \(collector.ingest.configuration.host):\(collector.ingest.port)
                      store      \(collector.dsn)

                    """)
                var served = agent
                served.port = bound
                collector.warnAboutOpenListeners(http: served, logger: logger)
                proxyListening.fill(bound)
                whenServing(bound, loopbackIngest)
                StartupPages.releaseAfterStartUp(logger: logger)
            })
        do {
            // The Postgres store runs its pool as a service, first so it stops last.
            let store = collector.store as? any Service
            let services: [any Service] =
                (store.map { [$0] } ?? []) + collector.services + extraServices + [
                    QuietRelease(counters: sidecar.core.shipper.counters, logger: logger) { [store = collector.store] in
                        await (store as? SQLiteStore)?.releaseMemory()
                    },
                    // The link starts once the proxy listens: a port lost at the last moment leaves no link behind.
                    StartAfter(ready: proxyListening, service: sidecar.link),
                    NamedListener(listener: Self.dashboardListener, service: api),
                    NamedListener(listener: agent, service: server),
                ]
            try await Runtime.run(services, logger: logger)
        } catch {
            try? await collector.store.close()
            throw error
        }
        try await collector.store.close()
    }
}
