/// Per-session call and failure counts for `high_error_rate`, bounded to the most recently seen sessions.
///
/// Least-recently-seen eviction without a linked list: every touch appends `(session, tick)` to `order`; an
/// entry is current only while it matches the session's latest tick. Stale entries are skipped when evicting
/// and dropped when `order` is rebuilt, which happens once it is twice the size of the live set.
struct SessionErrorRates: Sendable {
    /// What is known of one session.
    struct Session: Sendable, Equatable {
        var calls = 0
        var failures = 0
        /// The rate is at or above the threshold and this breach has been alerted; cleared when it drops below.
        var breached = false
        var lastSeen: UInt64 = 0

        var rate: Double { calls == 0 ? 0 : Double(failures) / Double(calls) }
    }

    let capacity: Int
    private(set) var sessions: [String: Session] = [:]
    private var order: [(id: String, tick: UInt64)] = []
    private var orderStart = 0
    private var tick: UInt64 = 0

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    var count: Int { sessions.count }

    /// Counts one call of `id` and returns the session after it, marked most recently seen.
    mutating func record(_ id: String, failed: Bool) -> Session {
        tick += 1
        var session = sessions[id] ?? Session()
        session.calls += 1
        if failed { session.failures += 1 }
        session.lastSeen = tick
        sessions[id] = session
        order.append((id, tick))
        if sessions.count > capacity { evictLeastRecent() }
        if order.count > 2 * sessions.count + 64 { rebuildOrder() }
        return session
    }

    /// Stores a changed breach flag; a session evicted meanwhile stays evicted.
    mutating func setBreached(_ id: String, _ breached: Bool) {
        sessions[id]?.breached = breached
    }

    private mutating func evictLeastRecent() {
        while orderStart < order.count {
            let (id, tick) = order[orderStart]
            orderStart += 1
            if sessions[id]?.lastSeen == tick {
                sessions[id] = nil
                return
            }
        }
    }

    private mutating func rebuildOrder() {
        order = sessions.map { ($0.key, $0.value.lastSeen) }.sorted { $0.tick < $1.tick }
        orderStart = 0
    }
}
