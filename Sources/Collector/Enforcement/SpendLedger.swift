import DequeModule

/// Spend and reservations per budget key, in memory: the collector's view of what the fleet has spent and what calls
/// in flight may still spend. Pure state; the caller passes the clock.
///
/// Daily figures (total, per agent, per user) cover the current UTC day and restart at midnight. Session figures are
/// lifetime and loaded from the store on first use (`beginLoading` / `finishLoading`); records settled while a load
/// runs are added on top of what the store returned, so a race can only over-count, never under-count.
///
/// Each key has one entry holding both what it spent and what it holds, so an admission looks each key up once to
/// judge and once to reserve; expiry walks a queue in expiry order instead of every reservation.
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

    /// An agent's or a user's day.
    struct DailyAccount: Sendable {
        var spent = Nanodollars.zero
        var held = Nanodollars.zero
        var committed: Nanodollars { spent + held }
    }

    /// A session's lifetime spend, as far as this collector knows it.
    enum SessionSpend: Sendable {
        /// Never read from the store (the session only holds reservations).
        case unknown
        /// Being read; `pending` is what settled meanwhile.
        case loading(pending: Nanodollars)
        case known(spent: Nanodollars)
    }

    struct SessionAccount: Sendable {
        var spend = SessionSpend.unknown
        var held = Nanodollars.zero
        var lastUsed: Int64 = .min
    }

    static let microsPerDay: Int64 = 86_400_000_000

    private(set) var day: Int64
    private var dailySpent = Nanodollars.zero
    private var dailyHeld = Nanodollars.zero
    private var agents: [String: DailyAccount] = [:]
    private var users: [String: DailyAccount] = [:]
    private var sessions: [String: SessionAccount] = [:]

    private var reservations: [String: Reservation] = [:]
    /// Reservations by expiry, oldest first (every reservation lives the same lifetime, so that is the order they
    /// were made in); holds settled ones too, until their time comes or the queue is rebuilt.
    private var expiries = Deque<(expiresAt: Int64, actionID: String)>()

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
        dailyHeld = .zero
        agents = [:]
        users = [:]
    }

    /// Today's spend as the store knows it, at start.
    package mutating func seedToday(total: Nanodollars, byAgent: [String: Nanodollars], byUser: [String: Nanodollars]) {
        dailySpent = total
        agents = byAgent.mapValues { DailyAccount(spent: $0) }
        users = byUser.mapValues { DailyAccount(spent: $0) }
    }

    // MARK: Reading

    /// Spent plus held today (everything).
    package var dailyCommitted: Nanodollars { dailySpent + dailyHeld }
    package func agentCommitted(_ agent: String) -> Nanodollars { agents[agent]?.committed ?? .zero }
    package func userCommitted(_ user: String) -> Nanodollars { users[user]?.committed ?? .zero }
    /// Nil while the session's lifetime spend is not known yet.
    package func sessionCommitted(_ session: String) -> Nanodollars? {
        guard let account = sessions[session], case .known(let spent) = account.spend else { return nil }
        return spent + account.held
    }
    package var reservationCount: Int { reservations.count }
    /// Sessions whose lifetime spend is in memory or being read.
    package var sessionCount: Int {
        sessions.values.count { if case .unknown = $0.spend { false } else { true } }
    }

    // MARK: Session loading

    /// Whether the session's lifetime spend is not known yet (never read, or being read): it cannot be judged until
    /// the store has answered.
    package func needsLoading(_ session: String) -> Bool {
        if case .known? = sessions[session]?.spend { return false }
        return true
    }

    package mutating func beginLoading(_ session: String) {
        if case .unknown = sessions[session, default: SessionAccount()].spend {
            sessions[session, default: SessionAccount()].spend = .loading(pending: .zero)
        }
    }

    /// The store's figure arrived: it plus whatever settled meanwhile is the session's spend.
    package mutating func finishLoading(_ session: String, stored: Nanodollars, now: Int64) {
        guard let account = sessions[session], case .loading(let pending) = account.spend else { return }
        sessions[session]?.spend = .known(spent: stored + pending)
        sessions[session]?.lastUsed = now
    }

    // MARK: Reservations

    package mutating func reserve(_ actionID: String, amount: Nanodollars, keys: Keys, now: Int64, lifetime: Int64) {
        let reservation = Reservation(amount: amount, keys: keys, day: day, expiresAt: now + lifetime)
        if let replaced = reservations.updateValue(reservation, forKey: actionID) {
            unhold(replaced)
        } else {
            expiries.append((reservation.expiresAt, actionID))
        }
        dailyHeld += amount
        if let agent = keys.agentName { agents[agent, default: DailyAccount()].held += amount }
        if let user = keys.userID { users[user, default: DailyAccount()].held += amount }
        if let session = keys.sessionID {
            sessions[session, default: SessionAccount()].held += amount
            sessions[session]?.lastUsed = now
        }
    }

    /// A call's record arrived: its reservation (if any) is released and its real cost counted. `arrivedAt` decides
    /// the UTC day the cost belongs to; a call from an earlier day adds only to its session.
    package mutating func settle(_ actionID: String, cost: Nanodollars, keys: Keys, arrivedAt: Int64, now: Int64) {
        if let reservation = reservations.removeValue(forKey: actionID) { unhold(reservation) }
        guard cost != .zero else { return }
        if Self.dayStart(of: arrivedAt) == day {
            dailySpent += cost
            if let agent = keys.agentName { agents[agent, default: DailyAccount()].spent += cost }
            if let user = keys.userID { users[user, default: DailyAccount()].spent += cost }
        }
        if let session = keys.sessionID, let account = sessions[session] {
            switch account.spend {
            case .loading(let pending): sessions[session]?.spend = .loading(pending: pending + cost)
            case .known(let spent):
                sessions[session]?.spend = .known(spent: spent + cost)
                sessions[session]?.lastUsed = now
            case .unknown: break  // not in memory: the store has it and a later load reads it
            }
        }
    }

    /// Drops reservations past their lifetime and sessions idle for `sessionIdle`; returns how many reservations
    /// expired. The work is the expired reservations, not all of them.
    package mutating func sweep(now: Int64, sessionIdle: Int64) -> Int {
        var expired = 0
        while let first = expiries.first, first.expiresAt <= now {
            expiries.removeFirst()
            if let reservation = reservations[first.actionID], reservation.expiresAt <= now {
                reservations[first.actionID] = nil
                unhold(reservation)
                expired += 1
            }
        }
        if expiries.count > 2 * reservations.count + 1024 {
            expiries = Deque(
                reservations.map { (expiresAt: $0.value.expiresAt, actionID: $0.key) }.sorted { $0.expiresAt < $1.expiresAt })
        }
        agents = agents.filter { $0.value.committed != .zero }
        users = users.filter { $0.value.committed != .zero }
        let idleBefore = now - sessionIdle
        sessions = sessions.filter { _, account in
            if account.held > .zero { return true }
            switch account.spend {
            case .loading: return true
            case .known: return account.lastUsed > idleBefore
            case .unknown: return false
            }
        }
        return expired
    }

    /// Takes a reservation's amount off what its keys hold (daily holds only if it was made today).
    private mutating func unhold(_ reservation: Reservation) {
        let amount = reservation.amount
        if reservation.day == day {
            dailyHeld -= amount
            if let agent = reservation.keys.agentName { agents[agent]?.held.release(amount) }
            if let user = reservation.keys.userID { users[user]?.held.release(amount) }
        }
        if let session = reservation.keys.sessionID { sessions[session]?.held.release(amount) }
    }
}

extension Nanodollars {
    /// Subtracts a released hold, never going below zero.
    fileprivate mutating func release(_ amount: Nanodollars) {
        let left = self - amount
        self = left > .zero ? left : .zero
    }
}
