import Foundation
import NIOCore
import NIOPosix

/// One address a command listens on, with the variables that set it, for messages.
struct Listener {
    /// The variable of the port (`AGENTLEDGER_PORT`): a taken port is reported under it.
    var portVariable: String
    /// The variable of the host (`AGENTLEDGER_HOST`): an address that is not this host's is reported under it.
    var hostVariable: String
    var host: String
    var port: Int

    /// Whether hosts other than this one can reach it: bound to a wildcard or a non-loopback address.
    var isReachableFromOtherHosts: Bool {
        let host = host.lowercased()
        return !(host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127."))
    }
}

/// Binds every listener of a command at once, before anything is opened or started, and releases them again, so a
/// port that cannot be had stops start-up with one line naming the variable and the address (exit 2) instead of
/// failing inside a running service group (docs/operations.md, "Start-up").
enum ListenerCheck {
    /// Throws the first listener's failure as a `ConfigurationError`. Listeners are held together until all are
    /// bound, so two of ours on one port are caught too. Port 0 (any free port) is skipped.
    static func check(_ listeners: [Listener]) async throws {
        var bound: [any Channel] = []
        defer { for channel in bound { channel.close(promise: nil) } }
        for (index, listener) in listeners.enumerated() where listener.port != 0 {
            let address: SocketAddress
            do {
                address = try SocketAddress.makeAddressResolvingHost(listener.host, port: listener.port)
            } catch {
                throw ConfigurationError(
                    description:
                        "\(listener.hostVariable): cannot listen on \(listener.host):\(listener.port): '\(listener.host)' is not an address or a known name"
                )
            }
            do {
                let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .bind(to: address).get()
                bound.append(channel)
            } catch {
                let sharing = listeners[..<index].first { $0.port == listener.port && $0.port != 0 }
                throw ConfigurationError(description: message(for: error, listener: listener, sharing: sharing))
            }
        }
    }

    /// One line for a listener that could not be bound: the variable, the address, and what is wrong.
    static func message(for error: any Error, listener: Listener, sharing: Listener? = nil) -> String {
        let address = listener.host.contains(":") ? "[\(listener.host)]:\(listener.port)" : "\(listener.host):\(listener.port)"
        switch (error as? IOError)?.errnoCode {
        case EADDRINUSE:
            let also = sharing.map { " (\($0.portVariable) is \($0.port) too)" } ?? ""
            return "\(listener.portVariable): \(address) is already in use\(also)"
        case EADDRNOTAVAIL:
            return "\(listener.hostVariable): cannot listen on \(address): \(listener.host) is not an address of this host"
        case EACCES:
            return "\(listener.portVariable): cannot listen on \(address): permission denied (ports below 1024 need privileges)"
        case let code?:
            return "\(listener.portVariable): cannot listen on \(address): \(String(cString: strerror(code)))"
        case nil:
            return "\(listener.portVariable): cannot listen on \(address): \(error)"
        }
    }
}
