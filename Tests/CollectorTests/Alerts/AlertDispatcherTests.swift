import Foundation
import LedgerMetrics
import LedgerTestSupport
import Logging
import Testing

@testable import Collector

/// The dispatcher against a real webhook receiver on 127.0.0.1; every wait is bounded.
@Suite struct AlertDispatcherTests {
    /// 2026-04-03T12:00:00Z.
    static let noon: Int64 = 1_775_217_600_000_000

    static func alert(_ id: String, kind: Alert.Kind = .highCost, dedupKey: String? = nil) -> Alert {
        Alert(
            kind: kind, message: "Single call cost $0.2000 reached threshold $0.1000", value: 0.2, threshold: 0.1,
            actionID: id, sessionID: "run-1", agentName: nil, timestampMicros: noon, dedupKey: dedupKey)
    }

    static func configuration(_ url: String) -> AlertDispatcher.Configuration {
        var configuration = AlertDispatcher.Configuration(webhookURL: url)
        configuration.initialBackoff = .milliseconds(20)
        configuration.maxBackoff = .milliseconds(100)
        configuration.attemptTimeout = .seconds(3)
        configuration.drainTimeout = .milliseconds(300)
        return configuration
    }

    /// Runs a receiver and a dispatcher delivering to it around `body`, then stops both.
    static func withDispatcher(
        script: [WebhookReceiver.Answer] = [], then fallback: WebhookReceiver.Answer = .status(200),
        logger: Logger = Integration.logger, configure: (inout AlertDispatcher.Configuration) -> Void = { _ in },
        _ body: (WebhookReceiver, AlertDispatcher) async throws -> Void
    ) async throws {
        let receiver = try await WebhookReceiver.started(script: script, then: fallback)
        var configuration = configuration(receiver.url)
        configure(&configuration)
        let dispatcher = AlertDispatcher(configuration: configuration, logger: logger)
        let services = RunningServices([dispatcher])
        do {
            try await body(receiver, dispatcher)
        } catch {
            await services.stop()
            await receiver.stop()
            throw error
        }
        await services.stop()
        await receiver.stop()
    }

    @Test func postsTheContractPayloadAsJSON() async throws {
        let logs = CapturedLogs()
        try await Self.withDispatcher(logger: logs.logger) { receiver, dispatcher in
            dispatcher.enqueue([Self.alert("a1")])
            #expect(await Integration.eventually { dispatcher.counts.sent == 1 })
            let body = try #require(receiver.recorder.bodies.first)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
            #expect(
                Set(json.keys) == ["type", "message", "value", "threshold", "action_id", "session_id", "agent_name", "timestamp"])
            #expect(json["type"] as? String == "high_cost")
            #expect(json["message"] as? String == "Single call cost $0.2000 reached threshold $0.1000")
            #expect(json["value"] as? Double == 0.2 && json["threshold"] as? Double == 0.1)
            #expect(json["action_id"] as? String == "a1" && json["session_id"] as? String == "run-1")
            #expect(json["agent_name"] is NSNull)
            #expect(json["timestamp"] as? String == "2026-04-03T12:00:00.000000Z")
            #expect(dispatcher.counts == AlertDispatcher.Counts(sent: 1, failed: 0, dropped: 0, attempts: 1, duplicates: 0))
        }
        let lines = logs.text
        #expect(lines.contains { $0.contains("alert delivered") && $0.contains("attempt=1") && $0.contains("status=200") })
        #expect(!lines.contains { $0.contains("s3cret") || $0.contains("/hook") })
    }

    @Test func retriesAfterAServerErrorThenDelivers() async throws {
        let logs = CapturedLogs()
        try await Self.withDispatcher(script: [.status(500)], logger: logs.logger) { receiver, dispatcher in
            dispatcher.enqueue([Self.alert("a1")])
            #expect(await Integration.eventually { dispatcher.counts.sent == 1 })
            #expect(dispatcher.counts.attempts == 2 && dispatcher.counts.failed == 0)
            let bodies = receiver.recorder.bodies
            #expect(bodies.count == 2 && bodies[0] == bodies[1])
            let metrics = dispatcher.counters.registry.prometheusText()
            #expect(metrics.contains("# TYPE agentledger_alerts_sent_total counter\nagentledger_alerts_sent_total 1\n"))
            #expect(metrics.contains("agentledger_alerts_delivery_attempts_total 2\n"))
            #expect(
                metrics.contains("agentledger_alerts_failed_total 0\n")
                    && metrics.contains("agentledger_alerts_dropped_total 0\n"))
        }
        #expect(logs.text.contains { $0.contains("attempt failed") && $0.contains("attempt=1") && $0.contains("HTTP 500") })
    }

    @Test func givesUpAfterTheLastAttempt() async throws {
        try await Self.withDispatcher(then: .status(503), configure: { $0.maxAttempts = 3 }) { receiver, dispatcher in
            dispatcher.enqueue([Self.alert("a1")])
            #expect(await Integration.eventually { dispatcher.counts.failed == 1 })
            #expect(dispatcher.counts.attempts == 3 && dispatcher.counts.sent == 0)
            #expect(receiver.recorder.bodies.count == 3)
        }
    }

    @Test func aClientErrorIsNotRetried() async throws {
        try await Self.withDispatcher(then: .status(404)) { receiver, dispatcher in
            dispatcher.enqueue([Self.alert("a1")])
            #expect(await Integration.eventually { dispatcher.counts.failed == 1 })
            try await Task.sleep(for: .milliseconds(150))
            #expect(dispatcher.counts.attempts == 1 && receiver.recorder.bodies.count == 1)
        }
    }

    @Test func anAttemptThatHangsTimesOutAndIsRetried() async throws {
        try await Self.withDispatcher(script: [.hang], configure: { $0.attemptTimeout = .milliseconds(300) }) { _, dispatcher in
            dispatcher.enqueue([Self.alert("a1")])
            #expect(await Integration.eventually { dispatcher.counts.sent == 1 })
            #expect(dispatcher.counts.attempts == 2)
        }
    }

    @Test func aHangingWebhookNeitherSlowsEnqueueNorHoldsShutdown() async throws {
        let receiver = try await WebhookReceiver.started(then: .hang)
        let dispatcher = AlertDispatcher(configuration: Self.configuration(receiver.url), logger: Integration.logger)
        let services = RunningServices([dispatcher])
        let clock = ContinuousClock()
        let enqueueTime = clock.measure {
            for index in 0..<100 { dispatcher.enqueue([Self.alert("a\(index)")]) }
        }
        #expect(enqueueTime < .milliseconds(200))
        // Four deliveries hang at once (the concurrency bound); the rest wait in the queue.
        #expect(await Integration.eventually { receiver.recorder.inFlight == 4 })
        #expect(receiver.recorder.maxInFlight == 4)
        let stopTime = await clock.measure { await services.stop() }
        #expect(stopTime < .seconds(3))
        #expect(dispatcher.counts.sent == 0)
        await receiver.stop()
    }

    @Test func aFullQueueDropsTheOldestAndCountsThem() async throws {
        let receiver = try await WebhookReceiver.started()
        var configuration = Self.configuration(receiver.url)
        configuration.queueCapacity = 5
        let dispatcher = AlertDispatcher(configuration: configuration, logger: Integration.logger)
        // Not running yet: nothing is consumed, so 12 alerts overflow a queue of 5.
        dispatcher.enqueue((0..<8).map { Self.alert("a\($0)") })
        dispatcher.enqueue((8..<12).map { Self.alert("a\($0)") })
        #expect(dispatcher.counts.dropped == 7)
        #expect(dispatcher.counters.registry.prometheusText().contains("agentledger_alerts_dropped_total 7\n"))
        let services = RunningServices([dispatcher])
        #expect(await Integration.eventually { dispatcher.counts.sent == 5 })
        await services.stop()
        await receiver.stop()
        let delivered = try receiver.recorder.bodies.map { body in
            try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])["action_id"] as? String
        }
        #expect(Set(delivered) == Set((7..<12).map { "a\($0)" }))
    }

    @Test func theSameAlertIsDeliveredOnce() async throws {
        try await Self.withDispatcher { receiver, dispatcher in
            dispatcher.enqueue([Self.alert("a1"), Self.alert("a1")])
            dispatcher.enqueue([Self.alert("a1")])
            let day = "daily_spend:2026-04-03"
            dispatcher.enqueue([
                Self.alert("d1", kind: .dailySpend, dedupKey: day), Self.alert("d2", kind: .dailySpend, dedupKey: day),
            ])
            #expect(await Integration.eventually { dispatcher.counts.sent == 2 })
            try await Task.sleep(for: .milliseconds(100))
            #expect(receiver.recorder.bodies.count == 2)
            #expect(dispatcher.counts.duplicates == 3)
        }
    }

    @Test func logsNameTheWebhookHostOnly() {
        #expect(
            AlertDispatcher.redacted("https://user:pw@hooks.slack.com/services/T0/B0/XYZ?token=y") == "https://hooks.slack.com")
        #expect(AlertDispatcher.redacted("http://127.0.0.1:9000/hook?token=s3cret") == "http://127.0.0.1:9000")
    }

    @Test func backoffDoublesUpToTheCapWithJitterInTheUpperHalf() {
        let configuration = AlertDispatcher.Configuration(webhookURL: "http://hook")
        #expect(configuration.backoff(afterAttempt: 1, jitter: 1) == .milliseconds(500))
        #expect(configuration.backoff(afterAttempt: 1, jitter: 0) == .milliseconds(250))
        #expect(configuration.backoff(afterAttempt: 3, jitter: 1) == .seconds(2))
        #expect(configuration.backoff(afterAttempt: 10, jitter: 1) == .seconds(8))
        #expect(configuration.backoff(afterAttempt: 60, jitter: 0.5) == .seconds(6))
    }

    @Test func recentKeysForgetTheOldestBeyondCapacity() {
        var keys = RecentKeys(capacity: 3)
        let inserted = ["a", "b", "c", "a", "d", "a", "d"].map { keys.insert($0) }
        // "d" pushes out "a", which then comes back new and pushes out "b".
        #expect(inserted == [true, true, true, false, true, true, false])
        #expect(keys.count == 3)
    }
}
