import LedgerProtocol
import Logging
import Synchronization

/// Changes budgets and rate limits while the collector runs (docs/operations.md, "Changing limits at run time"): each
/// change is checked, stored with its audit entry in one transaction, then applied to the enforcer, so the next ADMIT
/// is judged by it; sidecars are told when admission turns on or off. Changes are made one at a time.
///
/// The limits in force are always the configured ones (environment variables and `AGENTLEDGER_POLICY_FILE`) with the
/// stored overrides applied over them; an override removed returns its target to the configured limit.
package final class PolicyEditor: Sendable {
    /// The limits the environment variables and the policy file set.
    package let configured: EnforcementPolicy
    private let store: any Store
    private let enforcer: Enforcer
    private let logger: Logger
    /// Told after every change: tells linked sidecars whether ADMIT is required now.
    private let announce: @Sendable () -> Void
    private let lock = AsyncLock()
    /// The stored overrides in the order they were first set; nil until read from the store.
    private let overrides = Mutex<[PolicyOverride]?>(nil)

    /// Most overrides kept: far more than named keys a fleet limits, few enough to judge from memory.
    package static let maximumOverrides = 100_000

    package init(
        configured: EnforcementPolicy, store: any Store, enforcer: Enforcer, logger: Logger,
        announce: @escaping @Sendable () -> Void = {}
    ) {
        self.configured = configured
        self.store = store
        self.enforcer = enforcer
        self.logger = logger
        self.announce = announce
    }

    /// Reads the stored overrides and applies them. Call once the store answers and before sidecars are served; a
    /// change made before that reads them first.
    package func load() async throws {
        try await lock.withLock { _ = try await self.loaded() }
    }

    /// Reads the stored overrides again and applies them: another collector of the store changed them.
    package func reload() async throws {
        try await lock.withLock {
            self.overrides.withLock { $0 = nil }
            let overrides = try await self.loaded(announcingAlways: true)
            self.logger.info("limits changed by another collector applied", metadata: ["count": "\(overrides.count)"])
        }
    }

    /// The overrides in force.
    package func current() async throws -> [PolicyOverride] {
        try await lock.withLock { try await self.loaded() }
    }

    /// The audit trail, newest first.
    package func changes(limit: Int) async throws -> [PolicyChange] {
        try await store.policyChanges(limit: limit)
    }

    /// Sets one limit; returns the change as the audit trail keeps it.
    package func set(_ override: PolicyOverride, actor: String, client: String) async throws -> PolicyChange {
        let override = try override.validated()
        return try await lock.withLock {
            var next = try await self.loaded()
            if let index = next.firstIndex(where: { $0.target == override.target }) {
                next[index] = override
            } else {
                guard next.count < Self.maximumOverrides else {
                    throw PolicyOverrideError("more than \(Self.maximumOverrides) limits are set at run time")
                }
                next.append(override)
            }
            return try await self.commit(next, target: override.target, action: .set, override: override, actor, client)
        }
    }

    /// Removes the override at `target`, returning it to the configured limit; nil when there was none.
    package func remove(_ target: PolicyOverride.Target, actor: String, client: String) async throws -> PolicyChange? {
        try await lock.withLock {
            var next = try await self.loaded()
            guard let index = next.firstIndex(where: { $0.target == target }) else { return nil }
            next.remove(at: index)
            return try await self.commit(next, target: target, action: .removed, override: nil, actor, client)
        }
    }

    /// Under the lock: stores the change, then makes `next` the overrides in force.
    private func commit(
        _ next: [PolicyOverride], target: PolicyOverride.Target, action: PolicyChange.Action, override: PolicyOverride?,
        _ actor: String, _ client: String
    ) async throws -> PolicyChange {
        let before = enforcer.policy.limit(at: target)
        let policy = configured.applying(next)
        let change = PolicyChange(
            changedAtMicros: WallClock.nowMicros(), actor: actor, client: client, target: target, action: action,
            before: before, after: policy.limit(at: target))
        // A new budget's scope is read from the store first: a failure there changes nothing either.
        try await enforcer.prepareLimits(policy)
        try await store.savePolicyChange(change, override: override)
        overrides.withLock { $0 = next }
        enforcer.replaceLimits(with: policy)
        announce()
        logger.notice(
            "limit changed",
            metadata: [
                "kind": "\(target.kind.rawValue)", "scope": "\(target.scope)", "key": "\(target.key)",
                "action": "\(action.rawValue)", "before": "\(before.map { "\($0)" } ?? "none")",
                "after": "\(change.after.map { "\($0)" } ?? "none")", "actor": "\(actor)",
            ])
        return change
    }

    /// Under the lock: the overrides in force, read from the store and applied the first time.
    private func loaded(announcingAlways: Bool = false) async throws -> [PolicyOverride] {
        if let known = overrides.withLock({ $0 }) { return known }
        var valid: [PolicyOverride] = []
        for override in try await store.policyOverrides() {
            do {
                valid.append(try override.validated())
            } catch {
                logger.warning(
                    "ignoring a stored limit that is not valid",
                    metadata: ["scope": "\(override.scope)", "key": "\(override.key)", "error": "\(error)"])
            }
        }
        overrides.withLock { $0 = valid }
        if !valid.isEmpty || announcingAlways {
            let policy = configured.applying(valid)
            try await enforcer.prepareLimits(policy)
            enforcer.replaceLimits(with: policy)
            announce()
        }
        if !valid.isEmpty && !announcingAlways {
            logger.info("limits set at run time applied", metadata: ["count": "\(valid.count)"])
        }
        return valid
    }
}
