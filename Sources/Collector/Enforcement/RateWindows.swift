import DequeModule

/// Sliding-window request counters per key, kept as the admission times inside the window (at most `limit` per key,
/// so memory is bounded by the limits and by the keys active in the last window; `evictIdle` drops the rest).
///
/// Keys live in one table per scope, so a key is its id as the sidecar sent it: nothing is concatenated or
/// allocated to look one up, and a window is changed in place, never copied.
package struct RateWindows: Sendable {
    /// What a rate limit counts.
    package enum Scope: Sendable, CaseIterable {
        case global, session, agent, user, model
    }

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
    private var global = Window()
    private var sessions: [String: Window] = [:]
    private var agents: [String: Window] = [:]
    private var users: [String: Window] = [:]
    private var models: [String: Window] = [:]

    package init(windowMicros: Int64) {
        self.windowMicros = windowMicros
    }

    /// When the key is at `limit` within the window ending `now`: the microseconds until its oldest admission leaves
    /// the window. Nil when another request fits. The global scope ignores `id`.
    package mutating func wait(_ scope: Scope, _ id: String, limit: Int, now: Int64) -> Int64? {
        guard limit > 0 else { return windowMicros }
        let cutoff = now - windowMicros
        let window: Window?
        switch scope {
        case .global:
            global.dropOlder(than: cutoff)
            window = global
        case .session:
            sessions[id]?.dropOlder(than: cutoff)
            window = sessions[id]
        case .agent:
            agents[id]?.dropOlder(than: cutoff)
            window = agents[id]
        case .user:
            users[id]?.dropOlder(than: cutoff)
            window = users[id]
        case .model:
            models[id]?.dropOlder(than: cutoff)
            window = models[id]
        }
        guard let window, window.count >= limit, let oldest = window.oldest else { return nil }
        return max(1, oldest + windowMicros - now)
    }

    /// Counts an admitted request.
    package mutating func record(_ scope: Scope, _ id: String, limit: Int, now: Int64) {
        guard limit > 0 else { return }
        switch scope {
        case .global: global.append(now, keeping: limit)
        case .session: sessions[id, default: Window()].append(now, keeping: limit)
        case .agent: agents[id, default: Window()].append(now, keeping: limit)
        case .user: users[id, default: Window()].append(now, keeping: limit)
        case .model: models[id, default: Window()].append(now, keeping: limit)
        }
    }

    /// The requests of the key inside the window ending `now`.
    package func count(_ scope: Scope, _ id: String, now: Int64) -> Int {
        let window: Window? =
            switch scope {
            case .global: global
            case .session: sessions[id]
            case .agent: agents[id]
            case .user: users[id]
            case .model: models[id]
            }
        guard var window else { return 0 }
        window.dropOlder(than: now - windowMicros)
        return window.count
    }

    /// Every key of a scope with its requests inside the window ending `now` (the global scope's key is empty):
    /// read-only, for the `budgets` MCP tool.
    package func counts(_ scope: Scope, now: Int64) -> [(key: String, requests: Int)] {
        let keys: [String] =
            switch scope {
            case .global: [""]
            case .session: Array(sessions.keys)
            case .agent: Array(agents.keys)
            case .user: Array(users.keys)
            case .model: Array(models.keys)
            }
        return keys.map { ($0, count(scope, $0, now: now)) }.filter { $0.requests > 0 }
    }

    /// Forgets keys with no admission inside the window ending `now`.
    package mutating func evictIdle(now: Int64) {
        let cutoff = now - windowMicros
        global.dropOlder(than: cutoff)
        sessions = sessions.filter { ($0.value.newest ?? .min) > cutoff }
        agents = agents.filter { ($0.value.newest ?? .min) > cutoff }
        users = users.filter { ($0.value.newest ?? .min) > cutoff }
        models = models.filter { ($0.value.newest ?? .min) > cutoff }
    }

    /// Keys with a window in memory (the global window counts once it holds an admission).
    package var keyCount: Int {
        sessions.count + agents.count + users.count + models.count + (global.count > 0 ? 1 : 0)
    }
}
