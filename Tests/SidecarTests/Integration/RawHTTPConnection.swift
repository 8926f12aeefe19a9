import Foundation
import LedgerTestSupport
import NIOCore
import NIOPosix
import Synchronization

/// One agent connection driven byte by byte, for what an HTTP client library hides: pipelining, HTTP/1.0,
/// `Connection: close`, and the moment the proxy closes the socket.
struct RawHTTPConnection {
    /// One response as it came off the wire.
    struct Response: Sendable {
        let statusLine: String
        let headers: [(name: String, value: String)]
        let body: [UInt8]

        var status: Int { Int(statusLine.split(separator: " ").dropFirst().first ?? "") ?? 0 }
        var text: String { String(decoding: body, as: UTF8.self) }

        /// The first value of `name` (case-insensitive).
        func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
    }

    private let channel: any Channel
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var buffered: [UInt8] = []
    private var atEOF = false

    /// Connects to 127.0.0.1:`port`, runs `script` on the connection, closes it; all within `limit`.
    static func run<T: Sendable>(
        port: Int, within limit: Duration = .seconds(15), _ what: String,
        _ script: @escaping @Sendable (inout RawHTTPConnection) async throws -> T
    ) async throws -> T {
        try await Integration.within(limit, what) {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
            return try await channel.executeThenClose { inbound, outbound in
                var connection = RawHTTPConnection(
                    channel: channel.channel, inbound: inbound.makeAsyncIterator(), outbound: outbound)
                return try await script(&connection)
            }
        }
    }

    private init(
        channel: any Channel, inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    ) {
        self.channel = channel
        self.inbound = inbound
        self.outbound = outbound
    }

    /// Makes the close at the end a reset (SO_LINGER 0), which the proxy notices even while it is not reading.
    func resetOnClose() async throws {
        try await (channel as? any SocketOptionProvider)?.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
    }

    /// Writes `text` as is, in one write.
    func send(_ text: String) async throws {
        try await outbound.write(ByteBuffer(string: text))
    }

    /// Writes and flushes `text` without waiting: for a request body that may not all be taken before the answer
    /// comes. `written` turns true once the socket has taken all of it.
    func sendInBackground(_ text: String) -> Progress {
        let progress = Progress()
        channel.writeAndFlush(ByteBuffer(string: text)).whenSuccess { progress.written.withLock { $0 = true } }
        return progress
    }

    /// How far a background write got.
    final class Progress: Sendable {
        fileprivate let written = Mutex(false)
        var isWritten: Bool { written.withLock { $0 } }
    }

    /// The next whole response; nil when the connection ended first. A `pace` above zero waits that long before
    /// each read, as a slow agent would.
    mutating func nextResponse(pace: Duration = .zero) async throws -> Response? {
        while true {
            if let (response, used) = Self.parse(buffered[...], atEOF: atEOF) {
                buffered.removeFirst(used)
                return response
            }
            if atEOF { return nil }
            if pace > .zero { try await Task.sleep(for: pace) }
            try await readMore()
        }
    }

    /// Reads until the peer closes; returns the bytes that came before the close.
    mutating func remainingUntilClosed() async throws -> [UInt8] {
        while !atEOF { try await readMore() }
        defer { buffered = [] }
        return buffered
    }

    private mutating func readMore() async throws {
        do {
            if let chunk = try await inbound.next() {
                buffered.append(contentsOf: chunk.readableBytesView)
            } else {
                atEOF = true
            }
        } catch let error as ChannelError where error == .inputClosed || error == .eof {
            atEOF = true
        } catch let error as IOError where error.errnoCode == ECONNRESET {
            atEOF = true
        }
    }

    /// A response framed by `content-length`, chunked coding, or (without either) the end of the connection.
    private static func parse(_ bytes: ArraySlice<UInt8>, atEOF: Bool) -> (Response, Int)? {
        guard let headEnd = bytes.firstRange(of: Array("\r\n\r\n".utf8)) else { return nil }
        let lines = String(decoding: bytes[..<headEnd.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let headers = lines.dropFirst().compactMap { line -> (name: String, value: String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        var response = Response(statusLine: lines[0], headers: headers, body: [])
        let bodyStart = headEnd.upperBound
        if let length = response.header("content-length").flatMap({ Int($0) }) {
            guard bytes.endIndex - bodyStart >= length else { return nil }
            response = Response(statusLine: lines[0], headers: headers, body: Array(bytes[bodyStart..<bodyStart + length]))
            return (response, bodyStart + length - bytes.startIndex)
        }
        if response.header("transfer-encoding")?.lowercased() == "chunked" {
            guard let (body, end) = dechunk(bytes[bodyStart...]) else { return nil }
            return (Response(statusLine: lines[0], headers: headers, body: body), end - bytes.startIndex)
        }
        if [204, 304].contains(response.status) { return (response, bodyStart - bytes.startIndex) }
        guard atEOF else { return nil }
        return (Response(statusLine: lines[0], headers: headers, body: Array(bytes[bodyStart...])), bytes.count)
    }

    /// The decoded body and the index just past the final chunk, once all of it is there.
    private static func dechunk(_ bytes: ArraySlice<UInt8>) -> ([UInt8], Int)? {
        var body: [UInt8] = []
        var index = bytes.startIndex
        let crlf = Array("\r\n".utf8)
        for _ in 0..<100_000 {
            guard let lineEnd = bytes[index...].firstRange(of: crlf) else { return nil }
            let sizeField = String(decoding: bytes[index..<lineEnd.lowerBound], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeField.trimmingCharacters(in: .whitespaces), radix: 16) else { return nil }
            let dataStart = lineEnd.upperBound
            if size == 0 {
                // No trailers expected: the last chunk is followed by an empty line.
                guard bytes.endIndex - dataStart >= 2 else { return nil }
                return (body, dataStart + 2)
            }
            guard bytes.endIndex - dataStart >= size + 2 else { return nil }
            body.append(contentsOf: bytes[dataStart..<dataStart + size])
            index = dataStart + size + 2
        }
        return nil
    }
}
