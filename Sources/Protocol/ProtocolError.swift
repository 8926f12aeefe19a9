/// Why a frame or a message could not be decoded. Every decoding failure is one of these, never a crash.
package enum ProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The stream ended inside a frame: `available` of `expected` bytes arrived.
    case truncated(expected: Int, available: Int)
    /// A frame announced `length` bytes, more than the receiver's `limit`.
    case oversized(length: Int, limit: Int)
    /// The frame's type byte names no message this version knows.
    case unknownType(UInt8)
    /// The frame's version byte is not one this side speaks.
    case unsupportedVersion(UInt8)
    /// The frame was well delimited but its payload does not parse as its type says.
    case malformed(String)

    package var description: String {
        switch self {
        case .truncated(let expected, let available):
            "truncated frame: \(available) of \(expected) bytes"
        case .oversized(let length, let limit):
            "frame of \(length) bytes exceeds the limit of \(limit)"
        case .unknownType(let type):
            "unknown frame type 0x\(String(type, radix: 16))"
        case .unsupportedVersion(let version):
            "unsupported protocol version \(version)"
        case .malformed(let reason):
            "malformed payload: \(reason)"
        }
    }
}
