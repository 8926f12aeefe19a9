import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import LedgerAdmission
import LedgerProtocol
import LedgerTestSupport
import MockUpstream
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Sidecar

/// A whole sidecar wired as `agentledger sidecar` wires it, on real sockets: the mock upstream, a fake
/// collector, the proxy and its collector link sharing one shipper, and an HTTP client to drive it.
struct SidecarHarness: Sendable {
    /// What the proxy forwards to.
    enum Upstream: Sendable {
        case mock
        /// A port with nothing listening.
        case closed
        /// The mock over TLS with a fresh self-signed certificate, at `https://localhost:<port>`. When `trusted`, the
        /// proxy trusts that certificate alone (`ProxyCore(tls:)`); otherwise it keeps the system's trust roots.
        case mockTLS(trusted: Bool)
        /// Any upstream URL (the mock still runs, at `mockBase`).
        case url(String)
    }

    let mockPort: Int
    let proxyPort: Int
    /// `http://127.0.0.1:<mockPort>`, or `https://localhost:<mockPort>` for `.mockTLS` (the client trusts it).
    let mockBase: String
    /// Nil when the harness runs with no collector at all (the link points at a closed port).
    let collector: FakeCollector?
    let shipper: Shipper
    /// The proxy's open connections and buffered bodies.
    let sidecarLoad: AgentLoad
    let client: HTTPClient
    /// The collector link and the proxy; stopped at the end, or earlier by `stopSidecar()`.
    let sidecar: RunningServices

    var proxyBase: String { "http://127.0.0.1:\(proxyPort)" }

    /// Starts everything, runs `body`, then stops everything in reverse order, even when `body` throws. `linkPorts`:
    /// the ports on 127.0.0.1 the link is given, in order, from the harness collector's (or a closed one).
    static func run(
        upstream: Upstream = .mock, collector withCollector: Bool = true,
        admission: FakeCollector.Admission = .notRequired, collectorVersion: UInt16 = UInt16(WireFormat.latestVersion),
        configure: (inout ProxyConfiguration) -> Void = { _ in },
        linkPorts: (_ collectorPort: Int) async throws -> [Int] = { [$0] },
        _ body: (SidecarHarness) async throws -> Void
    ) async throws {
        let mockPortBox = PortBox()
        var certificate: TLSUpstream?
        var clientConfiguration = Self.clientConfiguration
        var mockServer = HTTPServerBuilder.http1()
        if case .mockTLS = upstream {
            let tls = try TLSUpstream.selfSigned()
            certificate = tls
            mockServer = try .tls(.http1(), tlsConfiguration: tls.serverConfiguration)
            clientConfiguration.tlsConfiguration = tls.trustingClientConfiguration
        }
        let mock = RunningServices([
            Application(
                router: MockUpstream.makeRouter(), server: mockServer,
                configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0), serverName: nil),
                onServerRunning: { mockPortBox.fill($0) }, logger: Integration.logger)
        ])
        var collector: FakeCollector?
        var sidecar: RunningServices?
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: clientConfiguration)
        do {
            let mockPort = try await mockPortBox.port("mock upstream")
            let mockBase = certificate == nil ? "http://127.0.0.1:\(mockPort)" : "https://localhost:\(mockPort)"
            collector = withCollector ? try await FakeCollector.started() : nil
            collector?.setAdmission(admission)
            collector?.speakUpTo(collectorVersion)
            let collectorPort: Int
            if let collector { collectorPort = collector.port } else { collectorPort = try await Integration.closedPort() }

            var proxy = ProxyConfiguration()
            proxy.source = "harness-sidecar"
            var trusted: TLSConfiguration?
            switch upstream {
            case .mock, .mockTLS(trusted: false): proxy.upstreamURL = mockBase
            case .mockTLS(trusted: true):
                proxy.upstreamURL = mockBase
                trusted = certificate?.trustingClientConfiguration
            case .closed: proxy.upstreamURL = "http://127.0.0.1:\(try await Integration.closedPort())"
            case .url(let url): proxy.upstreamURL = url
            }
            configure(&proxy)
            let shipper = Shipper()
            let admission = AdmissionClient(timeout: .milliseconds(300))
            var link = CollectorLink.Configuration(
                addresses: try await linkPorts(collectorPort).map { CollectorLink.Address(host: "127.0.0.1", port: $0) },
                source: proxy.source, ingestToken: "test-token")
            link.drainTimeout = .milliseconds(500)
            link.statusInterval = .milliseconds(200)
            let proxyPortBox = PortBox()
            let core = try ProxyCore(
                configuration: proxy, shipper: shipper, admission: admission, logger: Integration.logger, tls: trusted)
            let running = RunningServices([
                CollectorLink(configuration: link, shipper: shipper, admission: admission, logger: Integration.logger),
                ProxyServer(host: "127.0.0.1", port: 0, core: core, onListening: { proxyPortBox.fill(port: $0) }),
            ])
            sidecar = running
            let harness = SidecarHarness(
                mockPort: mockPort, proxyPort: try await proxyPortBox.port("proxy"), mockBase: mockBase, collector: collector,
                shipper: shipper, sidecarLoad: core.load, client: client, sidecar: running)
            try await body(harness)
        } catch {
            await Self.tearDown(sidecar: sidecar, collector: collector, mock: mock, clients: [client])
            throw error
        }
        await Self.tearDown(sidecar: sidecar, collector: collector, mock: mock, clients: [client])
    }

    private static func tearDown(
        sidecar: RunningServices?, collector: FakeCollector?, mock: RunningServices, clients: [HTTPClient]
    ) async {
        await sidecar?.stop()
        await collector?.stop()
        await mock.stop()
        for client in clients { try? await client.shutdown() }
    }

    /// The agent's client: no redirects, no decompression, so it sees exactly what the proxy sent.
    static var clientConfiguration: HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .disabled
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(600))
        return configuration
    }

    /// Gracefully stops the proxy and then the collector link, as SIGTERM would, and waits until both have stopped.
    func stopSidecar() async {
        await sidecar.stop()
    }

    /// The link has said HELLO and got WELCOME.
    func linkReady(within limit: Duration = .seconds(10)) async -> Bool {
        await Integration.eventually(within: limit) { shipper.isLinkReady }
    }

    /// A streamed chat call the mock answers slowly (`slow_stream`), for tests that act while it is in flight.
    func slowStreamRequest() -> HTTPClientRequest {
        var request = HTTPClientRequest(url: proxyBase + "/v1/chat/completions")
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "x-mock-scenario", value: "slow_stream")
        request.body = .bytes(ByteBuffer(string: ProxyIntegrationTests.streamBody))
        return request
    }

    /// Sends a request and reads the whole answer, within 15 s.
    func send(
        _ method: HTTPMethod = .POST, _ path: String, to base: String? = nil, headers: [(String, String)] = [],
        body: String? = nil
    ) async throws -> Exchange {
        var request = HTTPClientRequest(url: (base ?? proxyBase) + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let client = self.client
        return try await Integration.within(.seconds(15), "\(method) \(path)") { [request] in
            let response = try await client.execute(request, timeout: .seconds(15))
            var bytes: [UInt8] = []
            for try await chunk in response.body { bytes.append(contentsOf: chunk.readableBytesView) }
            return Exchange(status: response.status.code, headers: response.headers, body: bytes)
        }
    }

    /// The mock's record of the last request it received: method, path, headers (names lowercased).
    func lastUpstreamRequest() async throws -> (method: String, path: String, headers: [(String, String)])? {
        let exchange = try await send(.GET, "/debug/last-request", to: mockBase)
        let json = try JSONSerialization.jsonObject(with: Data(exchange.body), options: [.fragmentsAllowed])
        guard let object = json as? [String: Any] else { return nil }
        let headers = (object["headers"] as? [[String]] ?? []).compactMap { pair in
            pair.count == 2 ? (pair[0].lowercased(), pair[1]) : nil
        }
        return (object["method"] as? String ?? "", object["path"] as? String ?? "", headers)
    }

    /// The calls the collector received, once at least `count` arrived within `limit` (else what did).
    func collected(_ count: Int, within limit: Duration = .seconds(5)) async -> [CapturedCall] {
        guard let collector else { return [] }
        _ = await Integration.eventually(within: limit) { collector.calls.count >= count }
        return collector.calls
    }
}

/// One finished HTTP exchange as the agent saw it.
struct Exchange: Sendable {
    let status: UInt
    let headers: HTTPHeaders
    let body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The `error.type` of a `{"error":{"type":…}}` body.
    var errorType: String? {
        let json = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
        return (json?["error"] as? [String: Any])?["type"] as? String
    }
}
