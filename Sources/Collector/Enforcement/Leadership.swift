import NIOCore
import Synchronization

/// Which collector judges ADMITs now (docs/operations.md, "Several collectors"): this one, as the enforcer elected
/// through Postgres (`EnforcerElection`), or another, whose ingest address a follower forwards ADMITs to
/// (`EnforcerForwarder`). A collector alone on its store (SQLite) is always the enforcer.
///
/// Read on every ADMIT, so the one question asked there (`isEnforcer`) is two atomic loads and a clock read. The
/// enforcer's role carries the deadline its lease allows it to act until (`EnforcerElection`): past it this collector
/// judges nothing, even before the election's task has run (a process thawed after a freeze answers the ADMITs that
/// waited in its sockets before that task wakes).
package final class Leadership: Sendable {
    package enum Role: Sendable, Equatable, CustomStringConvertible {
        /// This collector holds the lease; `epoch` counts the leases ever taken, and fences this one's writes.
        case enforcer(epoch: Int64)
        /// Another collector holds it: its ingest address (`AGENTLEDGER_ADVERTISE_ADDRESS`), or nil while none does.
        case follower(enforcer: String?, epoch: Int64)

        package var description: String {
            switch self {
            case .enforcer(let epoch): "enforcer (epoch \(epoch))"
            case .follower(let address?, let epoch): "follower of \(address) (epoch \(epoch))"
            case .follower(nil, _): "follower, no enforcer"
            }
        }
    }

    private let current: Mutex<Role>
    private let enforcing: Atomic<Bool>
    /// While enforcing: until when, in `NIODeadline` uptime nanoseconds.
    private let fence: Atomic<UInt64>

    /// `until`: how long an enforcer's role lasts without `extend(until:)`; ignored for a follower.
    package init(_ role: Role, until: NIODeadline = .distantFuture) {
        current = Mutex(role)
        fence = Atomic(until.uptimeNanoseconds)
        if case .enforcer = role { enforcing = Atomic(true) } else { enforcing = Atomic(false) }
    }

    /// A collector alone on its store: the enforcer for good.
    package static func sole() -> Leadership { Leadership(.enforcer(epoch: 0)) }

    package var role: Role { current.withLock { $0 } }

    /// Whether this collector judges ADMITs, reserves, and raises budget alerts: it is the enforcer, and its lease
    /// still allows it to act.
    package var isEnforcer: Bool {
        enforcing.load(ordering: .acquiring)
            && NIODeadline.now().uptimeNanoseconds < fence.load(ordering: .acquiring)
    }

    /// The lease was renewed: the enforcer may act until `until`.
    package func extend(until: NIODeadline) {
        fence.store(until.uptimeNanoseconds, ordering: .releasing)
    }

    /// The address ADMITs are forwarded to: nil while this collector is the enforcer or none is known.
    package var enforcerAddress: String? {
        guard case .follower(let address, _) = role else { return nil }
        return address
    }

    /// Sets the role (an enforcer's acting until `until`); returns the previous one.
    @discardableResult
    package func become(_ role: Role, until: NIODeadline = .distantFuture) -> Role {
        current.withLock { current in
            defer { current = role }
            if case .enforcer = role {
                fence.store(until.uptimeNanoseconds, ordering: .releasing)
                enforcing.store(true, ordering: .releasing)
            } else {
                enforcing.store(false, ordering: .releasing)
            }
            return current
        }
    }
}
