import Logging
import ServiceLifecycle

/// Hands memory back once a load has passed (`up`; issue 20: back within 1.2 times idle 10 s after a load). When
/// no call has been captured or acknowledged for `quietTicks` ticks after some were, it runs `releaseStore` (SQLite's
/// caches), returns malloc's free pages to the kernel (`HeapTrim`), and drops the resident pages of the read-only
/// code mappings as after start-up (`StartupPages`: they stay in the page cache and come back on a minor fault when
/// the next call needs them). Once per load: a quiet process is not trimmed again and again.
package struct QuietRelease: Service {
    package var counters: SidecarCounters
    package var releaseStore: @Sendable () async -> Void
    package var tick: Duration
    package var quietTicks: Int
    package var logger: Logger
    /// Called after each release (tests).
    package var released: @Sendable () -> Void = {}

    package init(
        counters: SidecarCounters, tick: Duration = .seconds(1), quietTicks: Int = 2, logger: Logger,
        releaseStore: @escaping @Sendable () async -> Void
    ) {
        self.counters = counters
        self.tick = tick
        self.quietTicks = quietTicks
        self.logger = logger
        self.releaseStore = releaseStore
    }

    package func run() async throws {
        try? await cancelWhenGracefulShutdown {
            var last = (captured: 0, acknowledged: 0)
            var releasedAt = last
            var quiet = 0
            while true {
                try await Task.sleep(for: tick)
                let now = (captured: counters.value(.captured), acknowledged: counters.value(.acknowledged))
                if now != last {
                    last = now
                    quiet = 0
                    continue
                }
                quiet += 1
                guard quiet >= quietTicks, now != releasedAt else { continue }
                releasedAt = now
                await releaseStore()
                HeapTrim.trim()
                let pages = StartupPages.release()
                logger.debug(
                    "memory handed back after a load", metadata: ["mappings": "\(pages.mappings)", "bytes": "\(pages.bytes)"])
                released()
            }
        }
    }
}
