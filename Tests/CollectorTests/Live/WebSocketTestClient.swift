import NIOCore
import NIOPosix

/// A bare WebSocket client for tests: the upgrade handshake and unfragmented frames, nothing more.
final class WebSocketTestClient {
    /// What the server sent.
    enum Frame: Equatable {
        case text(String)
        case close(code: UInt16?)
    }

    struct HandshakeRefused: Error, CustomStringConvertible {
        var description: String
    }

    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var buffer = ByteBuffer()

    private init(
        inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    ) {
        self.inbound = inbound
        self.outbound = outbound
    }

    /// Connects to `path` on 127.0.0.1:`port`, upgrades, and runs `body` with the client; closes after.
    /// `headers` are extra handshake lines (`Origin: https://evil.example`); `host` replaces `127.0.0.1:port`.
    static func withConnection<T: Sendable>(
        port: Int, path: String = "/ws", host: String? = nil, headers: [String] = [],
        _ body: (WebSocketTestClient) async throws -> T
    ) async throws -> T {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            let client = WebSocketTestClient(inbound: inbound.makeAsyncIterator(), outbound: outbound)
            try await client.handshake(path: path, host: host ?? "127.0.0.1:\(port)", headers: headers)
            return try await body(client)
        }
    }

    private func handshake(path: String, host: String, headers: [String]) async throws {
        let request =
            "GET \(path) HTTP/1.1\r\nHost: \(host)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + headers.map { "\($0)\r\n" }.joined()
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        try await outbound.write(ByteBuffer(string: request))
        while true {
            let text = String(buffer: buffer)
            if let end = text.range(of: "\r\n\r\n") {
                let head = String(text[..<end.lowerBound])
                buffer.moveReaderIndex(forwardBy: text.utf8.distance(from: text.startIndex, to: end.upperBound))
                guard head.hasPrefix("HTTP/1.1 101") else { throw HandshakeRefused(description: head) }
                return
            }
            guard var more = try await inbound.next() else { throw HandshakeRefused(description: "connection closed") }
            buffer.writeBuffer(&more)
        }
    }

    /// Sends one masked text frame.
    func send(text: String) async throws {
        let payload = Array(text.utf8)
        let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        var frame = ByteBuffer()
        frame.writeInteger(UInt8(0x81))
        if payload.count < 126 {
            frame.writeInteger(UInt8(0x80 | payload.count))
        } else {
            frame.writeInteger(UInt8(0x80 | 126))
            frame.writeInteger(UInt16(payload.count))
        }
        frame.writeBytes(mask)
        frame.writeBytes(payload.enumerated().map { $0.element ^ mask[$0.offset % 4] })
        try await outbound.write(frame)
    }

    /// The next text or close frame (pings and pongs skipped); nil when the connection ends.
    func receive() async throws -> Frame? {
        while true {
            while let (opcode, payload) = nextFrame() {
                switch opcode {
                case 0x1: return .text(String(decoding: payload, as: UTF8.self))
                case 0x8:
                    let code = payload.count >= 2 ? UInt16(payload[0]) << 8 | UInt16(payload[1]) : nil
                    return .close(code: code)
                default: continue
                }
            }
            guard var more = try await inbound.next() else { return nil }
            buffer.writeBuffer(&more)
        }
    }

    private func nextFrame() -> (opcode: UInt8, payload: [UInt8])? {
        var view = buffer
        guard let first = view.readInteger(as: UInt8.self), let second = view.readInteger(as: UInt8.self) else {
            return nil
        }
        var length = Int(second & 0x7F)
        if length == 126 {
            guard let extended = view.readInteger(as: UInt16.self) else { return nil }
            length = Int(extended)
        } else if length == 127 {
            guard let extended = view.readInteger(as: UInt64.self) else { return nil }
            length = Int(extended)
        }
        guard let payload = view.readBytes(length: length) else { return nil }
        buffer = view
        return (first & 0x0F, payload)
    }
}
