import Crypto
import Foundation

/// The ids of an exported call's span (docs/reference.md, "OpenTelemetry"): derived from the record's own ids, so
/// the same call always gets the same span and a call's parent is found without looking anything up.
package enum OTLPIdentifiers {
    /// The first 16 bytes of SHA-256 of the session id, or of the action id when the call has no session.
    package static func traceID(sessionID: String?, actionID: String) -> Data {
        prefix(of: sessionID ?? actionID, bytes: 16)
    }

    /// The first 8 bytes of SHA-256 of an action id: a call's span id, and its parent's when given the parent's id.
    package static func spanID(actionID: String) -> Data {
        prefix(of: actionID, bytes: 8)
    }

    /// `spanID(actionID:)`'s bytes, handed to `body` where they lie: the exporter writes them straight into the
    /// span's protobuf, without building a `Data` (which cost a third of hashing the id).
    static func withSpanID<Result>(actionID: String, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        withPrefix(of: actionID, bytes: 8, body)
    }

    private static func prefix(of text: String, bytes: Int) -> Data {
        withPrefix(of: text, bytes: bytes) { Data($0) }
    }

    private static func withPrefix<Result>(
        of text: String, bytes: Int, _ body: (UnsafeRawBufferPointer) -> Result
    ) -> Result {
        // A native string's UTF-8 is hashed where it lies: no copy for each span of a busy export.
        let digest =
            text.utf8.withContiguousStorageIfAvailable { SHA256.hash(data: UnsafeRawBufferPointer($0)) }
            ?? SHA256.hash(data: Data(text.utf8))
        return digest.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0.prefix(bytes))) }
    }

    /// Lower-case hexadecimal, as OTLP/JSON writes trace and span ids.
    package static func hex(_ bytes: Data) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of an even-length hexadecimal string; nil when it is not one.
    package static func bytes(hex: String) -> Data? {
        let utf8 = Array(hex.utf8)
        guard utf8.count.isMultiple(of: 2) else { return nil }
        var out = Data(capacity: utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
