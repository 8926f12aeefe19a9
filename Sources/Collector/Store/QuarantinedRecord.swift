import Crypto
import Foundation
import LedgerProtocol

/// A record the collector received but could not store as a call: its bytes as the sidecar sent them, kept with why,
/// so nothing is lost and an operator can look at it (`GET /api/quarantine`). Acknowledged like a stored call, so the
/// sidecar moves on and the records beside it are stored (docs/operations.md, "Limits and hardening").
package struct QuarantinedRecord: Sendable, Equatable, Encodable {
    /// When the collector set it aside, microseconds since the Unix epoch.
    package var receivedAtMicros: Int64
    /// The source of the link it came on.
    package var source: String?
    /// The record's action id, when it could be read.
    package var actionID: String?
    package var reason: String
    /// The record's tagged fields (docs/protocol.md), without its length prefix.
    package var record: [UInt8]

    package init(receivedAtMicros: Int64, source: String?, actionID: String?, reason: String, record: [UInt8]) {
        self.receivedAtMicros = receivedAtMicros
        self.source = source
        self.actionID = actionID
        self.reason = reason
        self.record = record
    }

    /// The SHA-256 of `record`: a replayed record is kept once.
    package var digest: [UInt8] { Array(SHA256.hash(data: record)) }

    /// Longest reason kept: an error's description may quote what a peer sent.
    static let maximumReasonLength = 1_000

    /// The reason as stored: at most `maximumReasonLength` characters.
    var storedReason: String {
        reason.count > Self.maximumReasonLength ? String(reason.prefix(Self.maximumReasonLength)) + "…" : reason
    }

    private enum CodingKeys: String, CodingKey {
        case receivedAt = "received_at", source, actionID = "action_id", reason, bytes, record
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(ISOTimestamp.format(micros: receivedAtMicros), forKey: .receivedAt)
        try c.encode(source, forKey: .source)
        try c.encode(actionID, forKey: .actionID)
        try c.encode(reason, forKey: .reason)
        try c.encode(record.count, forKey: .bytes)
        try c.encode(Data(record).base64EncodedString(), forKey: .record)
    }
}

extension QuarantinedRecord {
    /// A record of a RECORDS frame that could not be decoded.
    init(_ rejected: RejectedRecord, source: String?, now: Int64) {
        self.init(
            receivedAtMicros: now, source: source, actionID: Self.actionID(in: rejected.bytes),
            reason: "undecodable record: \(rejected.reason)", record: rejected.bytes)
    }

    /// A decoded call the store refused.
    init(_ call: CapturedCall, source: String?, reason: String, now: Int64) {
        self.init(
            receivedAtMicros: now, source: source, actionID: call.actionID, reason: "not stored: \(reason)",
            record: call.encodedFields())
    }

    /// The action id field of a record's tagged fields, if it is there and is UTF-8.
    static func actionID(in bytes: [UInt8]) -> String? {
        var reader = ByteReader(bytes[...])
        while !reader.isAtEnd {
            guard let tag = try? reader.readUInt8("field tag"), let value = try? reader.readBytes("field") else { return nil }
            if tag == CapturedCall.Tag.actionID.rawValue { return String(utf8: value) }
        }
        return nil
    }
}
