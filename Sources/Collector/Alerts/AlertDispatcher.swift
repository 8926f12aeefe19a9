import AsyncHTTPClient
import Foundation
import LedgerMetrics
import Logging
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle
import Synchronization

/// Delivers alerts to the webhook off the request path: `enqueue` only files them in a bounded queue; `run()`
/// POSTs them as JSON with a few in flight at once, retrying with capped exponential backoff and jitter.
///
/// 2xx is delivered. 408, 425, 429, 5xx and transport errors (timeouts included) are retried; any other status
/// gives up at once. Each alert (by `Alert.dedupKey`) is delivered once, even when enqueued twice.
package final class AlertDispatcher: Service, Sendable {
    /// Monotonic totals, read back from `counters`.
    package struct Counts: Sendable, Equatable {
        package var sent = 0
        package var failed = 0
        package var dropped = 0
        package var attempts = 0
        package var duplicates = 0
    }

    private struct State: Sendable {
        var keys: RecentKeys
        /// In the queue, not yet taken by a delivery.
        var queued = 0
    }

    /// The outcome of one POST.
    private enum Attempt {
        case delivered(status: UInt)
        case retryable(String)
        case rejected(String)
    }

    package let configuration: Configuration
    private let sharedClient: HTTPClient?
    private let logger: Logger
    private let queue: AsyncStream<Alert>
    private let intake: AsyncStream<Alert>.Continuation
    private let state: Mutex<State>
    /// `agentledger_alerts_*_total`, in the collector's registry.
    package let counters: AlertCounters
    /// Scheme, host and port only: webhook paths and queries often carry the credential (Slack, Discord).
    private let webhookForLogs: String

    /// `httpClient`: a client shared with the rest of the collector, which its owner shuts down; when nil the
    /// dispatcher creates one in `run()` and shuts it down on the way out. `registry`: the collector's metrics.
    package init(
        configuration: Configuration, httpClient: HTTPClient? = nil, registry: PrometheusCollectorRegistry = .init(),
        logger: Logger
    ) {
        self.configuration = configuration
        counters = AlertCounters(registry: registry)
        sharedClient = httpClient
        self.logger = logger
        (queue, intake) = AsyncStream.makeStream(
            of: Alert.self, bufferingPolicy: .bufferingNewest(max(1, configuration.queueCapacity)))
        state = Mutex(State(keys: RecentKeys(capacity: configuration.dedupCapacity)))
        webhookForLogs = Self.redacted(configuration.webhookURL)
    }

    /// Files alerts for delivery; never blocks or awaits. Alerts already seen are skipped; when the queue is full
    /// the oldest waiting alert is dropped and counted.
    package func enqueue(_ alerts: [Alert]) {
        guard !alerts.isEmpty else { return }
        let (dropped, duplicates) = state.withLock { state in
            var (dropped, duplicates) = (0, 0)
            for alert in alerts {
                guard state.keys.insert(alert.dedupKey) else {
                    duplicates += 1
                    continue
                }
                switch intake.yield(alert) {
                case .enqueued: state.queued += 1
                case .dropped: dropped += 1
                case .terminated: dropped += 1
                @unknown default: dropped += 1
                }
            }
            return (dropped, duplicates)
        }
        counters.add(.duplicates, duplicates)
        counters.add(.dropped, dropped)
        if dropped > 0 {
            logger.warning(
                "alert queue full or closed; dropped alerts",
                metadata: ["dropped": "\(dropped)", "queue_capacity": "\(configuration.queueCapacity)"])
        }
    }

    /// The totals so far (a render of the registry: for tests, not hot paths).
    package var counts: Counts {
        Counts(
            sent: counters.value(.sent), failed: counters.value(.failed), dropped: counters.value(.dropped),
            attempts: counters.value(.attempts), duplicates: counters.value(.duplicates))
    }

    /// Delivers until graceful shutdown, then for at most `drainTimeout` more. Run once.
    package func run() async throws {
        let client =
            sharedClient
            ?? HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: Self.clientConfiguration)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.deliverQueued(client: client) }
            group.addTask {
                try? await gracefulShutdown()
                self.intake.finish()
                try? await Task.sleep(for: self.configuration.drainTimeout)
            }
            _ = await group.next()
            group.cancelAll()
        }
        let abandoned = state.withLock { state in
            defer { state.queued = 0 }
            return state.queued
        }
        counters.add(.dropped, abandoned)
        if abandoned > 0 { logger.warning("alerts still queued at shutdown were dropped", metadata: ["dropped": "\(abandoned)"]) }
        if sharedClient == nil { try? await client.shutdown() }
    }

    private static var clientConfiguration: HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(5))
        return configuration
    }

    private func deliverQueued(client: HTTPClient) async {
        let limit = max(1, configuration.concurrency)
        await withTaskGroup(of: Void.self) { group in
            var inFlight = 0
            for await alert in queue {
                if inFlight >= limit {
                    await group.next()
                    inFlight -= 1
                }
                // Cancelled while waiting for a slot: the alert stays counted as queued, so dropped at shutdown.
                if Task.isCancelled { break }
                state.withLock { $0.queued -= 1 }
                group.addTask { await self.deliver(alert, client: client) }
                inFlight += 1
            }
        }
    }

    private func deliver(_ alert: Alert, client: HTTPClient) async {
        var request = HTTPClientRequest(url: configuration.webhookURL)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "user-agent", value: "agentledger-alerts")
        request.body = .bytes(ByteBuffer(string: alert.jsonText))
        var metadata: Logger.Metadata = [
            "alert_type": "\(alert.kind.rawValue)", "alert_key": "\(alert.dedupKey)",
            "webhook": "\(webhookForLogs)",
        ]
        let attempts = max(1, configuration.maxAttempts)
        var attempt = 1
        while true {
            counters.add(.attempts)
            metadata["attempt"] = "\(attempt)"
            let outcome = await post(request, client: client)
            let problem: String
            switch outcome {
            case .delivered(let status):
                counters.add(.sent)
                metadata["status"] = "\(status)"
                logger.info("alert delivered", metadata: metadata)
                return
            case .rejected(let description):
                metadata["status"] = "\(description)"
                logger.warning("alert refused by webhook; not retried", metadata: metadata)
                counters.add(.failed)
                return
            case .retryable(let description):
                problem = description
            }
            metadata["error"] = "\(problem)"
            guard attempt < attempts, !Task.isCancelled else { break }
            let wait = configuration.backoff(afterAttempt: attempt, jitter: Double.random(in: 0...1))
            metadata["retry_in_ms"] = "\(Self.milliseconds(wait))"
            logger.warning("alert delivery attempt failed", metadata: metadata)
            metadata["retry_in_ms"] = nil
            do { try await Task.sleep(for: wait) } catch { break }
            attempt += 1
        }
        counters.add(.failed)
        logger.error("alert delivery gave up", metadata: metadata)
    }

    private func post(_ request: HTTPClientRequest, client: HTTPClient) async -> Attempt {
        do {
            let response = try await client.execute(request, timeout: Self.timeAmount(configuration.attemptTimeout))
            var read = 0
            for try await chunk in response.body {
                read += chunk.readableBytes
                if read > 64 * 1024 { break }
            }
            let code = response.status.code
            switch code {
            case 200..<300: return .delivered(status: code)
            case 408, 425, 429, 500..<600: return .retryable("HTTP \(code)")
            default: return .rejected("HTTP \(code)")
            }
        } catch {
            return .retryable(String(String(describing: error).prefix(300)))
        }
    }

    static func redacted(_ url: String) -> String {
        guard let parsed = URL(string: url), let scheme = parsed.scheme, let host = parsed.host else { return "(unparsable URL)" }
        return "\(scheme)://\(host)" + (parsed.port.map { ":\($0)" } ?? "")
    }

    private static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
