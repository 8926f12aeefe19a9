/// Spend and reservations per budget key, in memory: the collector's view of what the fleet has spent and what calls
/// in flight may still spend. Pure state; the caller passes the clock.
///
/// Daily figures (total, per agent, per user) cover the current UTC day and restart at midnight. Session figures are
/// lifetime and loaded from the store on first use (`beginLoading` / `finishLoading`); records settled while a load
/// runs are added on top of what the store returned, so a race can only over-count, never under-count.
package struct SpendLedger: Sendable {
    /// Who a reservation or a settled call is charged to.
    package struct Keys: Sendable, Equatable {
        package var sessionID: String?
        package var agentName: String?
        package var userID: String?

        package init(sessionID: String? = nil, agentName: String? = nil, userID: String? = nil) {
            self.sessionID = sessionID
            self.agentName = agentName
            self.userID = userID
        }
    }

    struct Reservation: Sendable {
        var amount: Nanodollars
        var keys: Keys
        var day: Int64
        var expiresAt: Int64
    }

    enum SessionSpend: Sendable {
        case loading(pending: Nanodollars)
        case known(spent: Nanodollars, lastUsed: Int64)
    }

    static let microsPerDay: Int64 = 86_400_000_000

    private(set) var day: Int64
    private var dailySpent = Nanodollars.zero
    private var agentSpent: [String: Nanodollars] = [:]
    private var userSpent: [String: Nanodollars] = [:]
    private var sessions: [String: SessionSpend] = [:]

    private var reservations: [String: Reservation] = [:]
    private var dailyHeld = Nanodollars.zero
    private var agentHeld: [String: Nanodollars] = [:]
    private var userHeld: [String: Nanodollars] = [:]
    private var sessionHeld: [String: Nanodollars] = [:]

    package init(now: Int64) {
        day = Self.dayStart(of: now)
    }

    package static func dayStart(of micros: Int64) -> Int64 {
        micros - ((micros % microsPerDay) + microsPerDay) % microsPerDay
    }

    /// Starts a new UTC day when `now` has passed midnight: daily spend and daily holds restart from zero.
    package mutating func advance(to now: Int64) {
        let today = Self.dayStart(of: now)
        guard today > day else { return }
        day = today
        dailySpent = .zero
        agentSpent = [:]
        userSpent = [:]
        dailyHeld = .zero
        agentHeld = [:]
        userHeld = [:]
    }

    /// Today's spend as the store knows it, at start.
    package mutating func seedToday(total: Nanodollars, byAgent: [String: Nanodollars], byUser: [String: Nanodollars]) {
        dailySpent = total
        agentSpent = byAgent
        userSpent = byUser
    }

    // MARK: Reading

    /// Spent plus held today (everything).
    package var dailyCommitted: Nanodollars { dailySpent + dailyHeld }
    package func agentCommitted(_ agent: String) -> Nanodollars {
        (agentSpent[agent] ?? .zero) + (agentHeld[agent] ?? .zero)
    }
    package func userCommitted(_ user: String) -> Nanodollars {
        (userSpent[user] ?? .zero) + (userHeld[user] ?? .zero)
    }
    /// Nil while the session's lifetime spend is not known yet.
    package func sessionCommitted(_ session: String) -> Nanodollars? {
        guard case .known(let spent, _)? = sessions[session] else { return nil }
        return spent + (sessionHeld[session] ?? .zero)
    }
    package var dailySpentToday: Nanodollars { dailySpent }
    package var reservationCount: Int { reservations.count }
    package var sessionCount: Int { sessions.count }

    // MARK: Session loading

    /// Whether the session's lifetime spend is not known yet (never read, or being read): it cannot be judged until
    /// the store has answered.
    package func needsLoading(_ session: String) -> Bool {
        if case .known? = sessions[session] { return false }
        return true
    }

    package mutating func beginLoading(_ session: String) {
        if sessions[session] == nil { sessions[session] = .loading(pending: .zero) }
    }

    /// The store's figure arrived: it plus whatever settled meanwhile is the session's spend.
    package mutating func finishLoading(_ session: String, stored: Nanodollars, now: Int64) {
        guard case .loading(let pending)? = sessions[session] else { return }
        sessions[session] = .known(spent: stored + pending, lastUsed: now)
    }

    // MARK: Reservations

    package mutating func reserve(_ actionID: String, amount: Nanodollars, keys: Keys, now: Int64, lifetime: Int64) {
        release(actionID)
        reservations[actionID] = Reservation(amount: amount, keys: keys, day: day, expiresAt: now + lifetime)
        dailyHeld = dailyHeld + amount
        if let agent = keys.agentName { agentHeld[agent, default: .zero] += amount }
        if let user = keys.userID { userHeld[user, default: .zero] += amount }
        if let session = keys.sessionID {
            sessionHeld[session, default: .zero] += amount
            touch(session, now: now)
        }
    }

    /// A call's record arrived: its reservation (if any) is released and its real cost counted. `arrivedAt` decides
    /// the UTC day the cost belongs to; a call from an earlier day adds only to its session.
    package mutating func settle(_ actionID: String, cost: Nanodollars, keys: Keys, arrivedAt: Int64, now: Int64) {
        release(actionID)
        guard cost != .zero else { return }
        if Self.dayStart(of: arrivedAt) == day {
            dailySpent += cost
            if let agent = keys.agentName { agentSpent[agent, default: .zero] += cost }
            if let user = keys.userID { userSpent[user, default: .zero] += cost }
        }
        if let session = keys.sessionID {
            switch sessions[session] {
            case .loading(let pending)?: sessions[session] = .loading(pending: pending + cost)
            case .known(let spent, _)?: sessions[session] = .known(spent: spent + cost, lastUsed: now)
            case nil: break  // not in memory: the store has it and a later load reads it
            }
        }
    }

    /// Drops reservations past their lifetime and sessions idle for `sessionIdle`; returns how many reservations expired.
    package mutating func sweep(now: Int64, sessionIdle: Int64) -> Int {
        let expired = reservations.filter { $0.value.expiresAt <= now }.map(\.key)
        for actionID in expired { release(actionID) }
        let idleBefore = now - sessionIdle
        sessions = sessions.filter { session, spend in
            guard case .known(_, let lastUsed) = spend else { return true }
            return lastUsed > idleBefore || sessionHeld[session] != nil
        }
        return expired.count
    }

    private mutating func touch(_ session: String, now: Int64) {
        if case .known(let spent, _)? = sessions[session] { sessions[session] = .known(spent: spent, lastUsed: now) }
    }

    private mutating func release(_ actionID: String) {
        guard let reservation = reservations.removeValue(forKey: actionID) else { return }
        let amount = reservation.amount
        if reservation.day == day {
            dailyHeld -= amount
            if let agent = reservation.keys.agentName { Self.subtract(amount, from: &agentHeld, agent) }
            if let user = reservation.keys.userID { Self.subtract(amount, from: &userHeld, user) }
        }
        if let session = reservation.keys.sessionID { Self.subtract(amount, from: &sessionHeld, session) }
    }

    private static func subtract(_ amount: Nanodollars, from held: inout [String: Nanodollars], _ key: String) {
        let left = (held[key] ?? .zero) - amount
        held[key] = left > .zero ? left : nil
    }
}
