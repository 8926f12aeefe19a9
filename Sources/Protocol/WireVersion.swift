/// Constants of the wire format shared by sidecars and collectors.
package enum WireFormat {
    /// The version byte of every frame whose layout version 1 defined: HELLO, WELCOME and every message of version 1
    /// that carries nothing version 2 added (`Message.frameVersion`).
    package static let version: UInt8 = 1
    /// The highest protocol version this build speaks, announced in HELLO; a collector answers with the lower of it
    /// and its own. Version 2 adds STATUS and the environment of an ADMIT (docs/protocol.md, "Versions").
    package static let latestVersion: UInt8 = 2
    /// Bytes before the payload: a 4-byte length, the version byte and the type byte.
    package static let headerBytes = 6
    /// Default largest frame a receiver accepts (the 4-byte length field's value).
    ///
    /// Sized so that one record with a 32 MiB request and a 32 MiB captured response fits.
    package static let defaultMaxFrameBytes = 80 << 20
}

/// The type byte of a frame.
package enum MessageType: UInt8, Sendable, CaseIterable {
    case hello = 0x01
    case welcome = 0x02
    case admit = 0x03
    case verdict = 0x04
    case records = 0x05
    case ack = 0x06
    case ping = 0x07
    case pong = 0x08
    case error = 0x09
    case status = 0x0A
}
