import Synchronization

/// The largest frame one link's decoder accepts: small until the link is authenticated, then the full limit.
///
/// A HELLO is a few hundred bytes, so an unauthenticated peer never gets to make the collector buffer a large frame
/// (docs/protocol.md, "Frame limits"). The link's encoder raises the limit when it writes WELCOME: the peer sends
/// nothing large before it has read WELCOME, so no frame is judged by the wrong limit.
package final class FrameLimit: Sendable {
    /// The limit once WELCOME has been written.
    package let authenticated: Int
    private let value: Atomic<Int>

    /// A limit of `beforeWelcome` bytes until WELCOME, `authenticated` after.
    package init(beforeWelcome: Int, authenticated: Int) {
        self.authenticated = authenticated
        value = Atomic(min(beforeWelcome, authenticated))
    }

    /// The same limit before and after WELCOME (the sidecar's end of a link).
    package convenience init(fixed: Int) {
        self.init(beforeWelcome: fixed, authenticated: fixed)
    }

    package var current: Int { value.load(ordering: .relaxed) }

    /// The link is authenticated: frames up to the full limit are accepted from now on.
    package func welcomed() {
        value.store(authenticated, ordering: .relaxed)
    }
}
