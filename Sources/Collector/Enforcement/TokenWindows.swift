import DequeModule

/// Token-per-minute limits (`token_limits` in `AGENTLEDGER_POLICY_FILE`): per key, the tokens of calls settled within
/// a sliding window, plus what calls in flight are expected to use. Pure state; the caller passes the clock.
///
/// A call admitted under a token limit holds its expected tokens (its body as input tokens, plus the output admission
/// expects) on each limited key until its record arrives; then the hold is released and the call's real tokens (input
/// and output, as the provider counted them) enter the window at the moment they are known. A hold whose record never
/// comes is released after the reservation lifetime.
struct TokenWindows: Sendable {
    /// One limited key of one scope (the global scope's key is empty).
    struct Key: Sendable, Hashable {
        var scope: RateWindows.Scope
        var id: String
    }

    private struct Window: Sendable {
        var entries = Deque<(time: Int64, tokens: Int)>()
        /// Tokens of `entries`, saturating.
        var settled = 0
        /// Tokens held by calls in flight.
        var held = 0

        mutating func dropOlder(than cutoff: Int64) {
            while let first = entries.first, first.time <= cutoff {
                entries.removeFirst()
                settled = max(0, settled - first.tokens)
            }
        }
    }

    private struct Hold: Sendable {
        var keys: [Key]
        var tokens: Int
        var expiresAt: Int64
    }

    let windowMicros: Int64
    private var windows: [Key: Window] = [:]
    private var holds: [String: Hold] = [:]
    /// Most entries one key keeps: beyond that the oldest are merged into the next, so a flood of tiny calls cannot
    /// grow memory (the sum stays exact; only when they leave the window gets coarser).
    static let maxEntriesPerKey = 4096

    init(windowMicros: Int64) {
        self.windowMicros = windowMicros
    }

    /// Tokens settled within the window ending `now` plus those held by calls in flight.
    mutating func used(_ key: Key, now: Int64) -> Int {
        guard var window = windows[key] else { return 0 }
        window.dropOlder(than: now - windowMicros)
        windows[key] = window
        return Self.sum(window.settled, window.held)
    }

    /// Microseconds until at least `needed` settled tokens of `key` leave the window ending `now`; the whole window
    /// when what is held by calls in flight (or a zero limit) is the obstacle.
    func wait(_ key: Key, needed: Int, now: Int64) -> Int64 {
        guard let window = windows[key], needed > 0 else { return windowMicros }
        var freed = 0
        for entry in window.entries {
            freed = Self.sum(freed, entry.tokens)
            if freed >= needed { return max(1, entry.time + windowMicros - now) }
        }
        return windowMicros
    }

    /// Holds `tokens` on each of `keys` for the call `actionID` until it settles or `lifetime` passes.
    mutating func hold(_ actionID: String, keys: [Key], tokens: Int, now: Int64, lifetime: Int64) {
        guard !keys.isEmpty else { return }
        if let previous = holds.removeValue(forKey: actionID) { release(previous) }
        let (expiresAt, overflow) = now.addingReportingOverflow(lifetime)
        holds[actionID] = Hold(keys: keys, tokens: tokens, expiresAt: overflow ? .max : expiresAt)
        for key in keys {
            var window = windows[key] ?? Window()
            window.held = Self.sum(window.held, tokens)
            windows[key] = window
        }
    }

    /// The call's record arrived: its hold is released and its real `tokens` counted on `keys` at `now`.
    mutating func settle(_ actionID: String, tokens: Int, keys: [Key], now: Int64) {
        if let hold = holds.removeValue(forKey: actionID) { release(hold) }
        guard tokens > 0 else { return }
        for key in keys {
            var window = windows[key] ?? Window()
            window.dropOlder(than: now - windowMicros)
            if window.entries.count >= Self.maxEntriesPerKey, let oldest = window.entries.popFirst() {
                window.entries[0].tokens = Self.sum(window.entries[0].tokens, oldest.tokens)
            }
            window.entries.append((now, tokens))
            window.settled = Self.sum(window.settled, tokens)
            windows[key] = window
        }
    }

    /// Releases holds past their lifetime and forgets keys with nothing in the window ending `now`.
    mutating func sweep(now: Int64) {
        for (actionID, hold) in holds where hold.expiresAt <= now {
            holds[actionID] = nil
            release(hold)
        }
        let cutoff = now - windowMicros
        windows = windows.compactMapValues { window in
            var window = window
            window.dropOlder(than: cutoff)
            return window.entries.isEmpty && window.held == 0 ? nil : window
        }
    }

    /// Every key of `scope` with tokens in the window ending `now`: read-only, for `GET /api/budgets`.
    func counts(_ scope: RateWindows.Scope, now: Int64) -> [(key: String, tokens: Int)] {
        windows.compactMap { key, window in
            guard key.scope == scope else { return nil }
            var window = window
            window.dropOlder(than: now - windowMicros)
            let tokens = Self.sum(window.settled, window.held)
            return tokens > 0 ? (key.id, tokens) : nil
        }
    }

    var keyCount: Int { windows.count }
    var holdCount: Int { holds.count }

    /// Token counts add up saturating: a provider's absurd count cannot trap.
    private static func sum(_ a: Int, _ b: Int) -> Int {
        let (total, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : total
    }

    private mutating func release(_ hold: Hold) {
        for key in hold.keys {
            guard var window = windows[key] else { continue }
            window.held = max(0, window.held - hold.tokens)
            windows[key] = window
        }
    }
}
