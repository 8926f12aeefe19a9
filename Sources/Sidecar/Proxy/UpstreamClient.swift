import AsyncHTTPClient
import NIOPosix

/// The HTTP client that forwards calls upstream, configured for a transparent proxy.
package enum UpstreamClient {
    package static func make() -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        // Redirects and compressed bodies reach the agent exactly as the upstream sent them.
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .disabled
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(600))
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 1024)
        // An unreachable upstream answers 502 at once, as a direct call would fail at once; agents' SDKs retry.
        configuration.connectionPool.retryConnectionEstablishment = false
        // No span per call: the default no-op tracer still costs attribute work and a dynamic cast on every request.
        configuration.tracing.tracer = nil
        return HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }
}
