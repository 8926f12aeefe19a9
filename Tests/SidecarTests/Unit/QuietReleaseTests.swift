import LedgerTestSupport
import Prometheus
import Synchronization
import Testing

@testable import Sidecar

/// `up` hands memory back once a load has passed: once per load, after the calls have stopped coming and being
/// acknowledged, never while they flow, never again and again while quiet.
@Suite struct QuietReleaseTests {
    @Test func memoryIsHandedBackOnceAfterEachLoad() async throws {
        let counters = SidecarCounters(registry: PrometheusCollectorRegistry())
        let storeReleases = Mutex(0)
        let releases = Mutex(0)
        var service = QuietRelease(counters: counters, tick: .milliseconds(20), quietTicks: 3, logger: Integration.logger) {
            storeReleases.withLock { $0 += 1 }
        }
        service.released = { releases.withLock { $0 += 1 } }
        let running = Task { [service] in try await service.run() }
        defer { running.cancel() }

        // No call yet: nothing to hand back.
        try await Task.sleep(for: .milliseconds(200))
        #expect(releases.withLock { $0 } == 0)

        // Calls flowing: nothing while they come, one release once they stop.
        for _ in 0..<10 {
            counters.add(.captured)
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(releases.withLock { $0 } == 0)
        #expect(await Integration.eventually(within: .seconds(5)) { releases.withLock { $0 } == 1 })
        try await Task.sleep(for: .milliseconds(200))
        #expect(releases.withLock { $0 } == 1)

        // Their acknowledgements are activity too; then quiet again, one more release.
        counters.add(.acknowledged, 10)
        #expect(await Integration.eventually(within: .seconds(5)) { releases.withLock { $0 } == 2 })
        try await Task.sleep(for: .milliseconds(200))
        #expect(releases.withLock { $0 } == 2)
        #expect(storeReleases.withLock { $0 } == 2)
    }
}
