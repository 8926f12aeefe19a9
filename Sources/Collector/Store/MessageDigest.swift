import Crypto
import Foundation

/// The content address of one stored message: SHA-256 of its canonical JSON text (`JSONText.encode`, keys sorted,
/// compact). A call stores the concatenated digests of its messages in order, so history resent on every call is
/// stored once and each call costs 32 bytes per message it carries.
enum MessageDigest {
    static let size = 32

    static func of(_ text: String) -> [UInt8] {
        var text = text
        let digest = text.withUTF8 { SHA256.hash(data: UnsafeRawBufferPointer($0)) }
        return digest.withUnsafeBytes { Array($0) }
    }

    /// The digests of a call's `message_hashes` value, in order; nil or empty means no messages.
    static func split(_ bytes: [UInt8]?) throws -> [[UInt8]] {
        guard let bytes, !bytes.isEmpty else { return [] }
        guard bytes.count % size == 0 else { throw StoreError("message_hashes holds \(bytes.count) bytes, not whole digests") }
        return stride(from: 0, to: bytes.count, by: size).map { Array(bytes[$0..<$0 + size]) }
    }

    /// Fills each record's messages from its digests and the stored bodies (JSON text by digest). Each distinct body
    /// is decoded once, however many calls resend it.
    static func assemble(_ records: inout [CallRecord], digests: [[[UInt8]]], bodies: [[UInt8]: String]) throws {
        var decoded: [[UInt8]: JSONValue] = [:]
        for index in records.indices {
            records[index].messages = try digests[index].map { digest in
                if let value = decoded[digest] { return value }
                guard let body = bodies[digest] else {
                    throw StoreError("call \(records[index].actionID) refers to a message that is not stored")
                }
                let value = try JSONText.decode(JSONValue.self, body)
                decoded[digest] = value
                return value
            }
        }
    }

    /// Every digest once, for the one query that loads the bodies of a set of calls.
    static func distinct(_ digests: [[[UInt8]]]) -> [[UInt8]] {
        var seen = Set<[UInt8]>()
        return digests.joined().filter { seen.insert($0).inserted }
    }
}
