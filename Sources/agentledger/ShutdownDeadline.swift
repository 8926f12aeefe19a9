import Dispatch
import Foundation
import Synchronization

/// Bounds shutdown: once SIGTERM or SIGINT arrives, the services have `grace` to stop gracefully (then they are
/// cancelled by the service group), and the process ends at `limit` whatever still runs, with one line saying so
/// (docs/operations.md, "Start-up"). Without it, one service that never returns kept the process alive for good,
/// ignoring every later signal.
final class ShutdownDeadline {
    /// How long graceful shutdown may take before the service group cancels the services.
    static let grace: Duration = .seconds(20)
    /// When the process exits even if cancellation did not finish; under Kubernetes' default 30 s grace period.
    static let limit: Duration = .seconds(25)

    private let sources: [any DispatchSourceSignal]

    /// Starts watching the signals. Call right before the service group runs (which ignores them too, for its own
    /// handlers); keep the value alive as long as the group runs.
    init(signals: [Int32] = [SIGTERM, SIGINT]) {
        let queue = DispatchQueue(label: "agentledger.shutdown-deadline")
        let armed = Armed()
        sources = signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler {
                guard armed.arm() else { return }
                queue.asyncAfter(deadline: .now() + .seconds(Int(Self.limit.components.seconds))) {
                    FileHandleOutput.standardError(
                        "agentledger: shutdown did not finish within \(Self.limit.components.seconds) s; exiting\n")
                    _exit(1)
                }
            }
            source.resume()
            return source
        }
    }

    deinit {
        for source in sources { source.cancel() }
    }

    /// Whether the deadline is set; true only for the first signal.
    private final class Armed: Sendable {
        private let armed = Mutex(false)

        func arm() -> Bool {
            armed.withLock { armed in
                defer { armed = true }
                return !armed
            }
        }
    }
}
