import DequeModule

/// Sliding-window request counters per key, kept as the admission times inside the window (at most `limit` per key,
/// so memory is bounded by the limits and by the keys active in the last window; `evictIdle` drops the rest).
package struct RateWindows: Sendable {
    /// The admission times of one key, oldest first, never more than the limit: O(1) at both ends, with no
    /// compaction pause however large the limit.
    struct Window: Sendable {
        private var times = Deque<Int64>()

        var count: Int { times.count }
        var oldest: Int64? { times.first }
        var newest: Int64? { times.last }

        mutating func dropOlder(than cutoff: Int64) {
            while let first = times.first, first <= cutoff { times.removeFirst() }
        }

        mutating func append(_ time: Int64, keeping limit: Int) {
            times.append(time)
            while times.count > limit { times.removeFirst() }
        }
    }

    let windowMicros: Int64
    private var windows: [String: Window] = [:]

    package init(windowMicros: Int64) {
        self.windowMicros = windowMicros
    }

    /// When `key` is at `limit` within the window ending `now`: the microseconds until its oldest admission leaves
    /// the window. Nil when another request fits.
    package mutating func wait(for key: String, limit: Int, now: Int64) -> Int64? {
        guard limit > 0 else { return windowMicros }
        guard var window = windows[key] else { return nil }
        window.dropOlder(than: now - windowMicros)
        windows[key] = window
        guard window.count >= limit, let oldest = window.oldest else { return nil }
        return max(1, oldest + windowMicros - now)
    }

    /// Counts an admitted request.
    package mutating func record(_ key: String, limit: Int, now: Int64) {
        guard limit > 0 else { return }
        windows[key, default: Window()].append(now, keeping: limit)
    }

    /// The requests of `key` inside the window ending `now`.
    package func count(for key: String, now: Int64) -> Int {
        guard var window = windows[key] else { return 0 }
        window.dropOlder(than: now - windowMicros)
        return window.count
    }

    /// Forgets keys with no admission inside the window ending `now`.
    package mutating func evictIdle(now: Int64) {
        let cutoff = now - windowMicros
        windows = windows.filter { ($0.value.newest ?? .min) > cutoff }
    }

    package var keyCount: Int { windows.count }
}
