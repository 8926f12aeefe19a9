import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Testing

/// Plumbing for tests that run real servers on 127.0.0.1: bounded waits, quiet loggers, free ports.
///
/// Set `AGENTLEDGER_TEST_LOGS=debug` (or another level) to see the servers' logs on stderr.
package enum Integration {
    package static let logger: Logger = {
        guard let level = ProcessInfo.processInfo.environment["AGENTLEDGER_TEST_LOGS"].flatMap(Logger.Level.init(rawValue:))
        else { return Logger(label: "agentledger.tests", factory: { _ in SwiftLogNoOpLogHandler() }) }
        var logger = Logger(label: "agentledger.tests", factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = level
        return logger
    }()

    /// A wait that ran out of time.
    package struct TimedOut: Error, CustomStringConvertible {
        package let what: String
        package init(what: String) { self.what = what }
        package var description: String { "timed out: \(what)" }
    }

    /// Runs `body`, throwing `TimedOut` (and cancelling it) once `limit` has passed.
    package static func within<T: Sendable>(
        _ limit: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: limit)
                throw TimedOut(what: what)
            }
            defer { group.cancelAll() }
            guard let result = try await group.next() else { throw TimedOut(what: what) }
            return result
        }
    }

    /// Polls `condition` until it holds or `limit` passes; returns whether it held.
    package static func eventually(
        within limit: Duration = .seconds(5), every interval: Duration = .milliseconds(20),
        _ condition: () async throws -> Bool
    ) async rethrows -> Bool {
        let attempts = max(1, Int(limit / interval))
        for _ in 0..<attempts {
            if try await condition() { return true }
            try? await Task.sleep(for: interval)
        }
        return try await condition()
    }

    /// A port on 127.0.0.1 with nothing listening, and that nothing else can take: one socket stays bound to it,
    /// never listening, for the rest of the test process, so a connection there is refused. (A port bound and closed
    /// again was seen taken by a parallel test's server, which then reset the connection meant to be refused.)
    package static func closedPort() async throws -> Int {
        try refusingPort.get()
    }

    private struct BindFailure: Error, CustomStringConvertible {
        var description: String
    }

    private static let refusingPort = Result<Int, BindFailure> { () throws(BindFailure) -> Int in
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw BindFailure(description: "socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(descriptor, generic, length) == 0 && getsockname(descriptor, generic, &length) == 0
            }
        }
        guard bound else { throw BindFailure(description: "bind: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))  // the descriptor stays open: the port stays ours
    }
}

/// Services run in their own `ServiceGroup` on a task until `stop()`, which waits a bounded time.
package final class RunningServices: Sendable {
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    package init(_ services: [any Service]) {
        var configuration = ServiceGroupConfiguration(services: services, logger: Integration.logger)
        configuration.maximumGracefulShutdownDuration = .seconds(3)
        let group = ServiceGroup(configuration: configuration)
        self.group = group
        task = Task { try await group.run() }
    }

    package func stop() async {
        await group.triggerGracefulShutdown()
        let task = self.task
        do {
            // Waiting on a task's value ignores cancellation: cancel the task itself, so a timeout is a failure, not a hang.
            try await Integration.within(.seconds(8), "services to stop") {
                await withTaskCancellationHandler {
                    _ = try? await task.value
                } onCancel: {
                    task.cancel()
                }
            }
        } catch {
            task.cancel()
            Issue.record("services did not stop within 8 s after graceful shutdown")
        }
    }
}

/// A one-shot box a server fills with its bound port from `onServerRunning`.
package final class PortBox: Sendable {
    private let stream: AsyncStream<Int>
    private let continuation: AsyncStream<Int>.Continuation

    package init() {
        (stream, continuation) = AsyncStream.makeStream(of: Int.self, bufferingPolicy: .bufferingNewest(1))
    }

    package func fill(_ channel: any Channel) {
        if let port = channel.localAddress?.port { continuation.yield(port) }
        continuation.finish()
    }

    package func fill(port: Int) {
        continuation.yield(port)
        continuation.finish()
    }

    package func port(_ what: String) async throws -> Int {
        let stream = self.stream
        return try await Integration.within(.seconds(10), "\(what) to listen") {
            for await port in stream { return port }
            throw Integration.TimedOut(what: "\(what) reported no port")
        }
    }
}
