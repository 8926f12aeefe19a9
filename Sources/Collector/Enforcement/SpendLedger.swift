import DequeModule

/// Spend and reservations per budget key, in memory: the collector's view of what the fleet has spent and what calls
/// in flight may still spend. Pure state; the caller passes the clock.
///
/// Every scope is accounted the same way: one table of accounts keyed by (scope, key), each holding what the key
/// spent in its period and what it holds for calls in flight, so an admission looks each key up once to judge and
/// once to reserve, and a settlement or a released reservation touches each of the call's accounts through the same
/// code. The fleet has one account, keyed by the empty string.
///
/// Periodic accounts (fleet, agent, user, app) cover their scope's current calendar period (a day by default; a week
/// or a month in the policy's time zone, `BudgetCalendar`) and restart when it ends. Lifetime accounts
/// (sessions) are loaded from the store on first use (`beginLoading` / `finishLoading`); records settled while a load
/// runs are added on top of what the store returned, so a race can only over-count, never under-count. Expiry walks
/// a queue in expiry order instead of every reservation.
package struct SpendLedger: Sendable {
    /// One key of one scope. The key is the id as the sidecar sent it: nothing is concatenated to look one up.
    package struct AccountID: Sendable, Hashable {
        package var scope: BudgetScope
        package var key: String

        package init(_ scope: BudgetScope, _ key: String) {
            self.scope = scope
            self.key = key
        }
    }

    /// Whether an account's spend is known: a periodic account's always is (a period starts from zero, or from what
    /// the store said at start); a lifetime account's once the store has answered.
    enum Knowledge: Sendable {
        /// Never read from the store (the key only holds reservations).
        case unknown
        /// Being read; `spent` is what settled meanwhile.
        case loading
        case known
    }

    /// What one key of one scope spent in its period, and what it holds for calls in flight.
    struct Account: Sendable {
        /// Settled cost in the period (while `loading`, what settled since the read began).
        var spent = Nanodollars.zero
        var held = Nanodollars.zero
        var knowledge: Knowledge
        var lastUsed: Int64 = .min

        /// An account with nothing in it: known for a calendar period, unknown for a lifetime.
        init(_ period: BudgetPeriod) {
            knowledge = period == .lifetime ? .unknown : .known
        }

        /// Spent plus held; nil while the spend is not known.
        var committed: Nanodollars? { knowledge == .known ? spent + held : nil }

        mutating func hold(_ amount: Nanodollars, now: Int64) {
            held += amount
            lastUsed = now
        }

        /// Counts a settled cost, unless the spend is not in memory (the store has the cost and a load reads it).
        mutating func count(_ cost: Nanodollars, now: Int64) {
            guard knowledge != .unknown else { return }
            spent += cost
            lastUsed = now
        }

        /// Whether the account is worth keeping: it holds something, is being read, or has a figure that is not
        /// the empty account's (a period's spend, or a lifetime spend used within `idleBefore`).
        func isLive(_ period: BudgetPeriod, idleBefore: Int64) -> Bool {
            if held > .zero { return true }
            switch knowledge {
            case .loading: return true
            case .unknown: return false
            case .known: return period == .lifetime ? lastUsed > idleBefore : spent != .zero
            }
        }
    }

    struct Reservation: Sendable {
        var amount: Nanodollars
        var keys: Keys
        /// When it was made (the collector's clock): it is held in the periods that were current then.
        var madeAt: Int64
        var expiresAt: Int64
    }

    static let microsPerDay: Int64 = 86_400_000_000

    /// The scopes accounted, in check order (a call touches at most one account per scope): those with a budget, so
    /// a fleet of a million users costs no memory per user until users have a budget.
    package private(set) var scopes: [BudgetScope]
    /// Each scope's period, by `BudgetScope.rawValue`.
    private let periods: [BudgetPeriod]
    package let calendar: BudgetCalendar
    /// Each scope's current period, by `BudgetScope.rawValue`: start (inclusive) and end (exclusive); a lifetime's is
    /// unbounded.
    private var starts: [Int64]
    private var ends: [Int64]
    /// The earliest of `ends`: until then no period has ended, and `advance` is one comparison.
    private var nextEnd: Int64
    private var accounts: [AccountID: Account] = [:]

    private var reservations: [String: Reservation] = [:]
    /// Reservations by expiry, oldest first (every reservation lives the same lifetime, so that is the order they
    /// were made in); holds settled ones too, until their time comes or the queue is rebuilt.
    private var expiries = Deque<(expiresAt: Int64, actionID: String)>()
    /// Reservations held at most: past it the oldest is released as if it had expired (`evicted`), so ADMITs whose
    /// records never come (a sidecar that only asks, a collector that cannot store) cannot grow the ledger without
    /// bound. About 250 MB at the cap; a fleet holds as many as it has calls in flight, records not yet stored.
    package var maxReservations = 1_000_000
    /// Reservations released early at the cap since `takeEvicted()`.
    private var evicted = 0

    /// `periods`: each scope's, where not its `defaultPeriod` (a session's is always its lifetime).
    package init(
        now: Int64, scopes: [BudgetScope] = BudgetScope.allCases, periods: [BudgetScope: BudgetPeriod] = [:],
        calendar: BudgetCalendar = .utc
    ) {
        self.scopes = BudgetScope.allCases.filter(scopes.contains)
        self.periods = BudgetScope.allCases.map { $0 == .session ? .lifetime : periods[$0] ?? $0.defaultPeriod }
        self.calendar = calendar
        let bounds = self.periods.map { calendar.bounds(of: $0, containing: now) }
        starts = bounds.map(\.start)
        ends = bounds.map(\.end)
        nextEnd = ends.min() ?? .max
    }

    /// Accounts `scopes` from now on: accounts of scopes no longer in it are dropped; a scope new to it starts empty
    /// (seed it from the store: `seedToday`). Returns the scopes that are new.
    @discardableResult
    package mutating func account(_ scopes: [BudgetScope]) -> [BudgetScope] {
        let next = BudgetScope.allCases.filter(scopes.contains)
        let added = next.filter { !self.scopes.contains($0) }
        let removed = self.scopes.filter { !next.contains($0) }
        self.scopes = next
        if !removed.isEmpty { accounts = accounts.filter { !removed.contains($0.key.scope) } }
        return added
    }

    /// The period `scope` counts spend over.
    package func period(of scope: BudgetScope) -> BudgetPeriod { periods[scope.rawValue] }

    /// The current period of `scope`: its start (inclusive) and end (exclusive).
    package func currentPeriod(of scope: BudgetScope) -> (start: Int64, end: Int64) {
        (starts[scope.rawValue], ends[scope.rawValue])
    }

    /// Whether `micros` falls in `scope`'s current period (always, for a lifetime).
    private func isCurrent(_ micros: Int64, _ scope: BudgetScope) -> Bool {
        micros >= starts[scope.rawValue] && (micros < ends[scope.rawValue] || ends[scope.rawValue] == .max)
    }

    /// The UTC midnight at or before `micros`; an instant before the first midnight 64 bits hold gives `Int64.min`
    /// (a record's time comes from the sidecar: no value may trap).
    package static func dayStart(of micros: Int64) -> Int64 {
        let (start, overflow) = micros.subtractingReportingOverflow(((micros % microsPerDay) + microsPerDay) % microsPerDay)
        return overflow ? .min : start
    }

    /// Starts the next period of each scope whose period has ended by `now`: its accounts restart from zero, holds
    /// included. One comparison while no period has ended.
    package mutating func advance(to now: Int64) {
        guard now >= nextEnd else { return }
        var ended: [BudgetScope] = []
        for scope in BudgetScope.allCases where periods[scope.rawValue] != .lifetime {
            let index = scope.rawValue
            guard now >= ends[index] else { continue }
            (starts[index], ends[index]) = calendar.bounds(of: periods[index], containing: now)
            ended.append(scope)
        }
        nextEnd = ends.min() ?? .max
        if !ended.isEmpty && !accounts.isEmpty { accounts = accounts.filter { !ended.contains($0.key.scope) } }
    }

    /// Each periodic scope's spend in its current period as the store knows it, at start: by scope, then by key (the
    /// fleet's under the empty key). Periodic accounts the figures do not name start at zero; lifetime scopes are
    /// loaded per key instead.
    /// `only`: seed those scopes alone (a budget set at run time on a scope that had none), leaving the others as
    /// they are.
    package mutating func seedToday(_ spent: [BudgetScope: [String: Nanodollars]], only: [BudgetScope]? = nil) {
        let seeded = scopes.filter { period(of: $0) != .lifetime && (only?.contains($0) ?? true) }
        var index = accounts.startIndex
        while index != accounts.endIndex {
            if seeded.contains(accounts.keys[index].scope) { accounts.values[index].spent = .zero }
            accounts.formIndex(after: &index)
        }
        for scope in seeded {
            for (key, amount) in spent[scope] ?? [:] {
                accounts[AccountID(scope, key), default: Account(periods[scope.rawValue])].spent = amount
            }
        }
    }

    package mutating func seedToday(
        total: Nanodollars, byAgent: [String: Nanodollars], byUser: [String: Nanodollars],
        byApp: [String: Nanodollars] = [:]
    ) {
        seedToday([.fleet: ["": total], .agent: byAgent, .user: byUser, .app: byApp])
    }

    // MARK: Reading

    /// Spent plus held by one key in its period: zero for a periodic key with nothing, nil for a lifetime key whose
    /// spend is not known yet.
    package func committed(_ scope: BudgetScope, _ key: String) -> Nanodollars? {
        guard let account = accounts[AccountID(scope, key)] else { return period(of: scope) == .lifetime ? nil : .zero }
        return account.committed
    }

    /// Settled spend of a key in its period; nil while a lifetime key's spend is not known.
    package func spent(_ scope: BudgetScope, _ key: String) -> Nanodollars? {
        guard let account = accounts[AccountID(scope, key)] else { return period(of: scope) == .lifetime ? nil : .zero }
        return account.knowledge == .known ? account.spent : nil
    }

    /// Spent plus held today (everything).
    package var dailyCommitted: Nanodollars { committed(.fleet, "") ?? .zero }
    package func agentCommitted(_ agent: String) -> Nanodollars { committed(.agent, agent) ?? .zero }
    package func userCommitted(_ user: String) -> Nanodollars { committed(.user, user) ?? .zero }
    package func appCommitted(_ app: String) -> Nanodollars { committed(.app, app) ?? .zero }
    /// Nil while the session's lifetime spend is not known yet.
    package func sessionCommitted(_ session: String) -> Nanodollars? { committed(.session, session) }

    /// One account as it stands, if it is in memory.
    func account(_ scope: BudgetScope, _ key: String) -> Account? { accounts[AccountID(scope, key)] }
    /// Accounts in memory, of every scope.
    var accountCount: Int { accounts.count }
    /// The accounts of one scope whose spend is known, as (key, spent, held): read-only, for the `budgets` MCP tool.
    package func knownAccounts(_ scope: BudgetScope) -> [(key: String, spent: Nanodollars, held: Nanodollars)] {
        accounts.compactMap { id, account in
            id.scope == scope && account.knowledge == .known ? (id.key, account.spent, account.held) : nil
        }
    }
    package var reservationCount: Int { reservations.count }
    /// Sessions whose lifetime spend is in memory or being read.
    package var sessionCount: Int {
        accounts.count { $0.key.scope == .session && $0.value.knowledge != .unknown }
    }

    // MARK: Loading lifetime spend

    /// Whether a lifetime key's spend is not known yet (never read, or being read): it cannot be judged until the
    /// store has answered. Periodic keys never need loading.
    package func needsLoading(_ scope: BudgetScope, _ key: String) -> Bool {
        period(of: scope) == .lifetime && accounts[AccountID(scope, key)]?.knowledge != .known
    }

    package mutating func beginLoading(_ scope: BudgetScope, _ key: String) {
        guard period(of: scope) == .lifetime, scopes.contains(scope) else { return }
        let id = AccountID(scope, key)
        var account = accounts[id] ?? Account(.lifetime)
        guard account.knowledge == .unknown else { return }
        account.knowledge = .loading
        accounts[id] = account
    }

    /// The store's figure arrived: it plus whatever settled meanwhile is the key's spend.
    package mutating func finishLoading(_ scope: BudgetScope, _ key: String, stored: Nanodollars, now: Int64) {
        let id = AccountID(scope, key)
        guard var account = accounts[id], account.knowledge == .loading else { return }
        account.spent = stored + account.spent
        account.knowledge = .known
        account.lastUsed = now
        accounts[id] = account
    }

    // MARK: Reservations

    package mutating func reserve(_ actionID: String, amount: Nanodollars, keys: Keys, now: Int64, lifetime: Int64) {
        let (expiresAt, overflow) = now.addingReportingOverflow(lifetime)
        let reservation = Reservation(amount: amount, keys: keys, madeAt: now, expiresAt: overflow ? .max : expiresAt)
        let replaced = reservations.updateValue(reservation, forKey: actionID)
        if let replaced { unhold(replaced) }
        // A replayed ADMIT made later expires later: its earlier entry in the queue would find it still live.
        if replaced?.expiresAt != reservation.expiresAt { expiries.append((reservation.expiresAt, actionID)) }
        for scope in scopes {
            guard let key = keys[scope] else { continue }
            let period = periods[scope.rawValue]
            accounts[AccountID(scope, key), default: Account(period)].hold(amount, now: now)
        }
        while reservations.count > maxReservations, let oldest = expiries.popFirst() {
            guard let reservation = reservations[oldest.actionID], reservation.expiresAt == oldest.expiresAt else { continue }
            reservations[oldest.actionID] = nil
            unhold(reservation)
            evicted += 1
        }
    }

    /// How many reservations the cap released early since the last call.
    package mutating func takeEvicted() -> Int {
        defer { evicted = 0 }
        return evicted
    }

    /// A call's record arrived: its reservation (if any) is released and its real cost counted. `arrivedAt` decides
    /// the period the cost belongs to: a call from an earlier period (or a later one) counts only for lifetime keys.
    package mutating func settle(_ actionID: String, cost: Nanodollars, keys: Keys, arrivedAt: Int64, now: Int64) {
        if let reservation = reservations.removeValue(forKey: actionID) { unhold(reservation) }
        guard cost != .zero else { return }
        for scope in scopes {
            guard let key = keys[scope], isCurrent(arrivedAt, scope) else { continue }
            let period = periods[scope.rawValue]
            accounts[AccountID(scope, key), default: Account(period)].count(cost, now: now)
        }
    }

    /// The reservations held now, newest first, at most `limit`: what a collector that takes over as the enforcer
    /// adopts (`EnforcerElection`). The newest are the calls most likely still in flight. The work is `limit` steps
    /// back through the expiry queue, whatever the number held: this runs under the enforcer's lock, once a second.
    package func heldReservations(limit: Int) -> [HeldReservation] {
        var held: [HeldReservation] = []
        held.reserveCapacity(min(limit, reservations.count))
        var steps = 0
        // The queue also holds settled ones until their time comes: bounded steps, not bounded finds.
        for entry in expiries.reversed() where held.count < limit && steps < 4 * limit {
            steps += 1
            guard let reservation = reservations[entry.actionID], reservation.expiresAt == entry.expiresAt else { continue }
            held.append(HeldReservation(actionID: entry.actionID, reservation: reservation))
        }
        return held
    }

    /// Holds reservations another collector made as the enforcer, until their records arrive or their lifetime
    /// (counted from when they were made) ends. Ids already held here are left as they are.
    package mutating func adopt(_ held: [HeldReservation], now: Int64, lifetime: Int64) {
        for reservation in held where reservations[reservation.actionID] == nil {
            let (expiresAt, overflow) = reservation.madeAt.addingReportingOverflow(lifetime)
            guard overflow || expiresAt > now else { continue }
            reserve(
                reservation.actionID, amount: Nanodollars(max(reservation.amount, 0)), keys: reservation.keys,
                now: now, lifetime: (overflow ? .max : expiresAt) - now)
        }
        // Adopted reservations end when their lifetimes from their making do, not in the order adopted: the expiry
        // queue is put in order again.
        expiries = Deque(
            reservations.map { (expiresAt: $0.value.expiresAt, actionID: $0.key) }.sorted { $0.expiresAt < $1.expiresAt })
    }

    /// Drops a reservation without counting a cost.
    package mutating func release(_ actionID: String) {
        if let reservation = reservations.removeValue(forKey: actionID) { unhold(reservation) }
    }

    /// Drops reservations past their lifetime, empty daily accounts, and lifetime accounts idle for `sessionIdle`;
    /// returns how many reservations expired. The work is the expired reservations, not all of them.
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
        let idleBefore = now - sessionIdle
        accounts = accounts.filter { $0.value.isLive(period(of: $0.key.scope), idleBefore: idleBefore) }
        return expired
    }

    /// Takes a reservation's amount off what its keys hold (periodic keys only if it was made in the current period:
    /// a new period's accounts started without it).
    private mutating func unhold(_ reservation: Reservation) {
        for scope in scopes {
            guard let key = reservation.keys[scope], isCurrent(reservation.madeAt, scope) else { continue }
            accounts[AccountID(scope, key)]?.held.release(reservation.amount)
        }
    }
}

extension Nanodollars {
    /// Subtracts a released hold, never going below zero.
    fileprivate mutating func release(_ amount: Nanodollars) {
        let left = self - amount
        self = left > .zero ? left : .zero
    }
}
