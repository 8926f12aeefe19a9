import LedgerProtocol
import Synchronization

/// Counts the ingest links open and those not yet authenticated, and refuses a new link past either cap, so
/// connections alone cannot exhaust the collector (docs/operations.md, "Ingest link").
package final class LinkAdmission: Sendable {
    /// Why a link was refused.
    package enum Refusal: Sendable, Equatable {
        case tooManyLinks(Int)
        case tooManyUnauthenticated(Int)

        /// The ERROR sent to the peer before closing.
        package var error: ErrorMessage {
            switch self {
            case .tooManyLinks(let cap):
                ErrorMessage(code: .overloaded, message: "the collector has its maximum of \(cap) links; retry later")
            case .tooManyUnauthenticated(let cap):
                ErrorMessage(
                    code: .overloaded, message: "the collector has \(cap) links still before HELLO; retry later")
            }
        }
    }

    package let maxLinks: Int
    package let maxUnauthenticated: Int
    private let open = Atomic(0)
    private let unauthenticated = Atomic(0)

    package init(maxLinks: Int, maxUnauthenticated: Int) {
        self.maxLinks = maxLinks
        self.maxUnauthenticated = maxUnauthenticated
    }

    /// Links open now, and how many of them have not completed HELLO.
    package var counts: (open: Int, unauthenticated: Int) {
        (open.load(ordering: .relaxed), unauthenticated.load(ordering: .relaxed))
    }

    /// A link arrived: counts it as open and unauthenticated, or refuses it (counting nothing).
    package func admit() -> Refusal? {
        guard open.wrappingAdd(1, ordering: .relaxed).newValue <= maxLinks else {
            open.subtract(1, ordering: .relaxed)
            return .tooManyLinks(maxLinks)
        }
        guard unauthenticated.wrappingAdd(1, ordering: .relaxed).newValue <= maxUnauthenticated else {
            unauthenticated.subtract(1, ordering: .relaxed)
            open.subtract(1, ordering: .relaxed)
            return .tooManyUnauthenticated(maxUnauthenticated)
        }
        return nil
    }

    /// An admitted link completed HELLO.
    package func authenticated() {
        unauthenticated.subtract(1, ordering: .relaxed)
    }

    /// An admitted link closed; `authenticated` says whether `authenticated()` was called for it.
    package func closed(authenticated: Bool) {
        open.subtract(1, ordering: .relaxed)
        if !authenticated { unauthenticated.subtract(1, ordering: .relaxed) }
    }
}
