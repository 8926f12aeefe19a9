import Foundation
import NIOCore
import ServiceLifecycle

/// A listening service whose bind failure becomes one line naming its variables (`ListenerCheck.message`): the
/// check before start-up makes this rare, but another process may take the port in between.
struct NamedListener: Service {
    let listener: Listener
    let service: any Service

    func run() async throws {
        do {
            try await service.run()
        } catch let error as IOError where error.errnoCode == EADDRINUSE || error.errnoCode == EADDRNOTAVAIL {
            throw ConfigurationError(description: ListenerCheck.message(for: error, listener: listener))
        }
    }
}
