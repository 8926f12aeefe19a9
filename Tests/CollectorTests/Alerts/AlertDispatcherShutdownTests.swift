import LedgerTestSupport
import Testing

@testable import Collector

/// Alerts still waiting when the drain time runs out.
@Suite struct AlertDispatcherShutdownTests {
    @Test func alertsLeftAtShutdownAreCountedAsDropped() async throws {
        let receiver = try await WebhookReceiver.started(then: .hang)
        var configuration = AlertDispatcherTests.configuration(receiver.url)
        configuration.concurrency = 1
        let dispatcher = AlertDispatcher(configuration: configuration, logger: Integration.logger)
        let services = RunningServices([dispatcher])
        dispatcher.enqueue((0..<5).map { AlertDispatcherTests.alert("a\($0)") })
        #expect(await Integration.eventually { receiver.recorder.inFlight == 1 })
        await services.stop()
        await receiver.stop()
        let counts = dispatcher.counts
        #expect(counts.sent == 0 && counts.failed == 1 && counts.dropped == 4)
    }
}
