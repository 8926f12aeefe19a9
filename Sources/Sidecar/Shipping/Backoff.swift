/// Capped exponential backoff with full jitter, for reconnecting to the collector.
package struct Backoff: Sendable {
    package var baseMillis: Int = 100
    package var capMillis: Int = 5_000
    private var attempt = 0

    package init(baseMillis: Int = 100, capMillis: Int = 5_000) {
        self.baseMillis = baseMillis
        self.capMillis = capMillis
    }

    /// The next delay: uniform in [ceiling/2, ceiling] where the ceiling doubles per attempt up to the cap.
    package mutating func nextDelayMillis<R: RandomNumberGenerator>(using random: inout R) -> Int {
        let ceiling = min(capMillis, baseMillis << min(attempt, 20))
        attempt += 1
        return Int.random(in: (ceiling / 2)...max(ceiling / 2, ceiling), using: &random)
    }

    package mutating func nextDelayMillis() -> Int {
        var random = SystemRandomNumberGenerator()
        return nextDelayMillis(using: &random)
    }

    package mutating func reset() { attempt = 0 }
}
