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

/// Which of the collector addresses (`AGENTLEDGER_COLLECTOR`, a list) the link tries next. Addresses are tried in
/// order within a round; a round ends when every address has failed, or when a link that reached WELCOME ends, and
/// the next round, after a backoff delay, starts again at the first address.
package struct AddressRounds: Sendable {
    package let count: Int
    /// The index of the address to try next.
    package private(set) var current = 0

    package init(count: Int) {
        self.count = max(1, count)
    }

    /// Moves on after an attempt. Returns true when the round is over: wait before the next attempt, which goes to
    /// the first address; false: try `current` at once.
    package mutating func advance(linked: Bool) -> Bool {
        if linked || current + 1 >= count {
            current = 0
            return true
        }
        current += 1
        return false
    }
}
