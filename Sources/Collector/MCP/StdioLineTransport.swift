import Foundation
import Logging
import MCP

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The MCP stdio transport of `agentledger mcp`: one JSON-RPC message per line on standard input, answers one per
/// line on standard output, nothing else on it (logs go to standard error).
///
/// Used instead of the SDK's `StdioTransport`, whose line buffer has no bound and which polls a non-blocking
/// descriptor: here a thread blocks on `read`, a line longer than `maxLineBytes` is dropped whole (and logged), and
/// at most `queueLength` lines wait for the server, the reader pausing while the queue is full.
package actor StdioLineTransport: Transport {
    package nonisolated let logger: Logger
    private let input: Int32
    private let output: Int32
    private let maxLineBytes: Int
    private let stream: AsyncThrowingStream<Data, any Error>
    private let continuation: AsyncThrowingStream<Data, any Error>.Continuation
    private var connected = false

    static let queueLength = 64

    package init(input: Int32 = 0, output: Int32 = 1, maxLineBytes: Int = 4 << 20, logger: Logger) {
        self.input = input
        self.output = output
        self.maxLineBytes = maxLineBytes
        self.logger = logger
        (stream, continuation) = AsyncThrowingStream.makeStream(bufferingPolicy: .bufferingOldest(Self.queueLength))
    }

    package func connect() async throws {
        guard !connected else { return }
        connected = true
        let (input, maxLineBytes, continuation, logger) = (self.input, self.maxLineBytes, self.continuation, self.logger)
        let thread = Thread {
            Self.readLines(from: input, maxLineBytes: maxLineBytes, into: continuation, logger: logger)
        }
        thread.name = "mcp-stdin"
        thread.start()
    }

    package func disconnect() async {
        connected = false
        continuation.finish()
    }

    package func send(_ data: Data) async throws {
        var bytes = [UInt8](data)
        bytes.append(UInt8(ascii: "\n"))
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(output, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw MCPError.connectionClosed
            }
            offset += written
        }
    }

    package nonisolated func receive() -> AsyncThrowingStream<Data, any Error> { stream }

    /// Blocking reads until end of input: splits lines, drops empty and oversize ones, waits while the queue is full.
    private static func readLines(
        from input: Int32, maxLineBytes: Int, into continuation: AsyncThrowingStream<Data, any Error>.Continuation,
        logger: Logger
    ) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var line: [UInt8] = []
        var discarding = false
        func deliver(_ message: [UInt8]) {
            var pending = Data(message)
            while true {
                switch continuation.yield(pending) {
                case .enqueued, .terminated: return
                case .dropped(let back):
                    pending = back
                    usleep(2_000)
                @unknown default: return
                }
            }
        }
        while true {
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            for byte in buffer[..<count] {
                if byte == UInt8(ascii: "\n") {
                    if !discarding && !line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { deliver(line) }
                    line.removeAll(keepingCapacity: line.count <= 65_536)
                    discarding = false
                } else if !discarding {
                    line.append(byte)
                    if line.count > maxLineBytes {
                        logger.error("MCP message longer than \(maxLineBytes) bytes dropped")
                        line.removeAll()
                        discarding = true
                    }
                }
            }
        }
        if !discarding && !line.isEmpty { deliver(line) }
        continuation.finish()
    }
}
