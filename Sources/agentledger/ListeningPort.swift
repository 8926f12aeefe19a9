/// The port a server bound, handed from its start-up callback to whoever waits for it.
final class ListeningPort: Sendable {
    private let stream: AsyncStream<Int?>
    private let continuation: AsyncStream<Int?>.Continuation

    init() {
        (stream, continuation) = AsyncStream.makeStream(of: Int?.self, bufferingPolicy: .bufferingNewest(1))
    }

    func fill(_ port: Int?) {
        continuation.yield(port)
        continuation.finish()
    }

    /// Waits until the server is listening.
    func value() async throws -> Int {
        for await port in stream {
            if let port { return port }
        }
        throw ListeningPortError()
    }
}

/// The server stopped without reporting a port.
struct ListeningPortError: Error, CustomStringConvertible {
    var description: String { "the dashboard and API server did not start" }
}
