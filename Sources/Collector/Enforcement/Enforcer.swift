import LedgerProtocol
import Logging
import Prometheus
import ServiceLifecycle
import Synchronization

/// The collector's enforcement authority: answers ADMIT for every sidecar from one `EnforcementState`, settles
/// reservations as records are stored, and sweeps expired reservations once a second while it runs.
///
/// Admission is a lock and a few dictionary lookups; the only await is the first call of a session with a session
/// budget, whose lifetime spend is read from the store once (concurrent first calls share that read).
package final class Enforcer: Service, Sendable {
    /// The policy in force: the one it was made with, with the limits of the latest `replaceLimits(with:)`.
    package var policy: EnforcementPolicy { state.withLock { $0.policy } }
    /// Whether sidecars must ask before each call, read without copying the policy.
    package var isActive: Bool { state.withLock { $0.policy.isActive } }
    private let state: Mutex<EnforcementState>
    private let sessionLoads = Mutex<[String: Task<Void, Never>]>([:])
    private let store: any Store
    private let logger: Logger
    private let now: @Sendable () -> Int64
    package let counters: EnforcementCounters
    /// Told of the soft thresholds (`EnforcementPolicy.alertFractions`) the calls this collector stored carried a key
    /// across, outside the lock: the collector's alerts.
    private let onThresholds: @Sendable ([ThresholdCrossing]) -> Void
    /// Whether this collector is the one judging ADMITs among those on its store; only that one raises budget alerts.
    package let leadership: Leadership

    /// `registry`: the collector's metrics, where `counters` go. `leadership`: `Leadership.sole()` unless elected
    /// among several collectors (`EnforcerElection`).
    package init(
        policy: EnforcementPolicy, prices: PriceTable, store: any Store, registry: PrometheusCollectorRegistry = .init(),
        logger: Logger, now: @escaping @Sendable () -> Int64 = WallClock.nowMicros, leadership: Leadership = .sole(),
        onThresholds: @escaping @Sendable ([ThresholdCrossing]) -> Void = { _ in }
    ) {
        self.onThresholds = onThresholds
        self.leadership = leadership
        counters = EnforcementCounters(registry: registry)
        self.store = store
        self.logger = logger
        self.now = now
        state = Mutex(EnforcementState(policy: policy, prices: prices, now: now()))
    }

    /// Today's spend (total, per agent, per user, per app) as the store has it, so a restart keeps the morning's spend.
    /// Call before sidecars connect, with `store.spend(sinceMicros: SpendLedger.dayStart(of: now))`.
    package func seedToday(_ totals: SpendTotals) {
        state.withLock {
            // A store written before token counts were checked may hold negative costs: they never count as credit.
            func spend(_ usd: Double) -> Nanodollars { Nanodollars(usd: max(usd, 0)) }
            $0.seedToday(
                total: spend(totals.total), byAgent: totals.byAgent.mapValues(spend), byUser: totals.byUser.mapValues(spend),
                byApp: totals.byApp.mapValues(spend))
        }
    }

    /// Each periodic budget scope's spend in its current period (a day, a week or a month) as the store has it, so a
    /// restart keeps what was spent before it: one store read per distinct period start. Call before sidecars connect;
    /// returns the fleet's spend of the current UTC day when that was among the reads (the daily-spend alert's seed).
    @discardableResult
    package func seedSpend() async throws -> SpendTotals? {
        let scopes = state.withLock { state in state.ledger.scopes.filter { state.ledger.period(of: $0) != .lifetime } }
        var dayTotal: SpendTotals?
        let spent = try await spendInPeriods(of: scopes) { start, totals in
            if start == SpendLedger.dayStart(of: self.now()) { dayTotal = totals }
        }
        state.withLock { $0.seed(spent, only: scopes) }
        return dayTotal
    }

    /// Each periodic scope's spend in its current period, by key, read from the store: one read per distinct period
    /// start. `read` sees each read's totals.
    private func spendInPeriods(
        of scopes: [BudgetScope], read: (Int64, SpendTotals) -> Void = { _, _ in }
    ) async throws -> [BudgetScope: [String: Nanodollars]] {
        let starts = state.withLock { state in scopes.map { state.ledger.currentPeriod(of: $0).start } }
        var reads: [Int64: SpendTotals] = [:]
        var spent: [BudgetScope: [String: Nanodollars]] = [:]
        // A store written before token counts were checked may hold negative costs: they never count as credit.
        func amount(_ usd: Double) -> Nanodollars { Nanodollars(usd: max(usd, 0)) }
        for (scope, start) in zip(scopes, starts) {
            let totals: SpendTotals
            if let known = reads[start] {
                totals = known
            } else {
                totals = try await store.spend(sinceMicros: start)
                reads[start] = totals
                read(start, totals)
            }
            spent[scope] =
                switch scope {
                case .fleet: ["": amount(totals.total)]
                case .agent: totals.byAgent.mapValues(amount)
                case .user: totals.byUser.mapValues(amount)
                case .app: totals.byApp.mapValues(amount)
                case .environment: totals.byEnvironment.mapValues(amount)
                case .model: totals.byModel.mapValues(amount)
                case .session: [:]
                }
        }
        return spent
    }

    /// Decides on one ADMIT, first reading the session's lifetime spend from the store when it is not in memory.
    package func verdict(for admit: Admit) async -> Verdict {
        let request = Self.request(admit)
        if let session = state.withLock({ $0.sessionToLoad(for: request) }) {
            await loadSession(session)
        }
        return answer(admit, state.withLock { $0.admit(request, now: now()) })
    }

    /// Decides on one ADMIT without waiting, or returns nil when the session's spend must first be read from the
    /// store (then call `verdict(for:)`).
    package func immediateVerdict(for admit: Admit) -> Verdict? {
        let request = Self.request(admit)
        let time = now()
        let decision = state.withLock { state -> AdmissionDecision? in
            state.sessionToLoad(for: request) == nil ? state.admit(request, now: time) : nil
        }
        return decision.map { answer(admit, $0) }
    }

    private static func request(_ admit: Admit) -> AdmissionRequest {
        AdmissionRequest(
            actionID: admit.actionID,
            keys: SpendLedger.Keys(
                sessionID: admit.sessionID, agentName: admit.agentName, userID: admit.userID, appID: admit.appID,
                model: admit.model, environment: admit.environment),
            model: admit.model, bodyBytes: Int(admit.bodyBytes), maxTokens: admit.maxTokens.map(Int.init))
    }

    private func answer(_ admit: Admit, _ decision: AdmissionDecision) -> Verdict {
        switch decision {
        case .admit:
            counters.add(.admitted)
            return Verdict(requestID: admit.requestID, decision: .admit)
        case .refuse(let refusal):
            counters.add(refusal.kind == .budget ? .refusedBudget : .refusedRate)
            logger.debug(
                "call refused", metadata: ["type": "\(refusal.kind.rawValue)", "action_id": "\(admit.actionID)"])
            return Verdict(
                requestID: admit.requestID, decision: .refuse, refusalType: refusal.kind.rawValue, message: refusal.message,
                retryAfterSeconds: refusal.retryAfterSeconds.map { UInt32(clamping: $0) })
        }
    }

    /// Stored records settle their reservations and count their real cost. Only records new to the store count:
    /// a replayed batch must not be charged twice. Every collector of a store settles every call (those another one
    /// stored arrive through `ReplicaFeed`), so a follower is ready to take over; only the enforcer announces the
    /// thresholds crossed, so each is announced once across replicas.
    package func settle(_ records: [CallRecord], newActionIDs: Set<String>) {
        let time = now()
        let crossings = state.withLock { state in
            // Nothing counts without a budget or a token limit (one set later reads its spend from the store): ingest
            // then costs no more than without enforcement.
            guard state.policy.hasBudgets || state.policy.hasTokenLimits else { return [ThresholdCrossing]() }
            var crossings: [ThresholdCrossing] = []
            for record in records where newActionIDs.contains(record.actionID) {
                crossings += state.settle(
                    actionID: record.actionID, costUSD: record.blocked ? nil : record.costUSD,
                    keys: SpendLedger.Keys(
                        sessionID: record.sessionID, agentName: record.agentName, userID: record.userID, appID: record.appID,
                        model: record.modelID, environment: record.environment),
                    arrivedAt: record.timestampMicros, now: time, model: record.blocked ? nil : record.modelID,
                    tokensIn: record.tokensIn, tokensOut: record.tokensOut)
            }
            return crossings
        }
        guard !crossings.isEmpty, leadership.isEnforcer else { return }
        for crossing in crossings {
            logger.info(
                "budget threshold reached",
                metadata: [
                    "scope": "\(crossing.scope)", "key": "\(crossing.key)", "fraction": "\(crossing.fraction)",
                    "spent_usd": "\(crossing.spent)", "limit_usd": "\(crossing.limit)",
                ])
        }
        onThresholds(crossings)
    }

    /// Gets ready to judge by `policy`'s budgets: a scope that had no budget is accounted from now on and starts from
    /// its spend in its period as the store has it (a record settled during the read may be counted twice, never left
    /// out). The limits in force do not change until `replaceLimits(with:)`.
    package func prepareLimits(_ policy: EnforcementPolicy) async throws {
        let added = state.withLock { $0.accountScopes(of: policy) }
        guard !added.isEmpty else { return }
        let spent = try await spendInPeriods(of: added)
        state.withLock { $0.seed(spent, only: added) }
    }

    /// Judges the next ADMIT by `policy`'s budgets, rate limits, token limits and alert thresholds (a run-time edit
    /// through the API, after `prepareLimits`); spend, reservations and windows carry over.
    package func replaceLimits(with policy: EnforcementPolicy) {
        state.withLock { $0.replaceLimits(with: policy) }
    }

    /// The reservations held now, newest first, at most `limit`: written with each renewal of the enforcer's lease,
    /// for the next enforcer to adopt.
    package func heldReservations(limit: Int) -> [HeldReservation] {
        state.withLock { $0.ledger.heldReservations(limit: limit) }
    }

    /// Becomes the enforcer: reads each periodic budget's spend from the store again (what reached this collector as
    /// a follower may have missed a notification), and holds the reservations the previous enforcer last wrote,
    /// except those whose calls are stored already. Calls it admitted after its last write are not known here: the
    /// bound on overshoot counts them (docs/operations.md, "Failover").
    package func takeOver(adopting held: [HeldReservation], storedAmong: ([String]) async throws -> Set<String>)
        async throws
    {
        try await seedSpend()
        let time = now()
        state.withLock { $0.adopt(held, now: time) }
        // Adopted first, then released: a call stored before the read is released here, one stored after it settles
        // through `ReplicaFeed` as any other.
        let stored = try await storedAmong(held.map(\.actionID))
        state.withLock { $0.release(stored) }
    }

    /// Reads the state under its lock, without changing it (the `budgets` MCP tool). Keep `body` short: admission waits.
    package func inspect<T>(_ body: (EnforcementState) -> T) -> T {
        state.withLock { body($0) }
    }

    /// Sweeps once a second until shutdown.
    package func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await Task.sleep(for: .seconds(1))
            } catch {
                return
            }
            let (expired, evicted) = state.withLock { ($0.sweep(now: now()), $0.takeEvicted()) }
            if expired > 0 {
                counters.add(.reservationsExpired, expired)
                logger.warning("reservations expired without a record", metadata: ["count": "\(expired)"])
            }
            if evicted > 0 {
                counters.add(.reservationsEvicted, evicted)
                logger.warning(
                    "reservations released early: a million calls were admitted whose records have not come",
                    metadata: ["count": "\(evicted)"])
            }
        }
    }

    /// The session's lifetime spend, read once from the store; concurrent first calls wait for the same read.
    private func loadSession(_ session: String) async {
        let task = sessionLoads.withLock { loads -> Task<Void, Never> in
            if let running = loads[session] { return running }
            state.withLock { $0.beginLoading(session: session) }
            let task = Task { await self.readSessionSpend(session) }
            loads[session] = task
            return task
        }
        await task.value
        sessionLoads.withLock { _ = $0.removeValue(forKey: session) }
    }

    private func readSessionSpend(_ session: String) async {
        var stored = Nanodollars.zero
        do {
            stored = Nanodollars(usd: max(try await store.sessionCost(session), 0))
        } catch {
            counters.add(.storeErrors)
            logger.error(
                "could not read a session's spend; judging it on what this collector has seen",
                metadata: ["session_id": "\(session)", "error": "\(error)"])
        }
        state.withLock { $0.finishLoading(session: session, stored: stored, now: now()) }
    }
}
