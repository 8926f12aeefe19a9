import Foundation

/// A session's audit export (docs/reference.md, "Exports"): the calls exactly as `/session` returns them, the session's
/// aggregates, and an integrity hash (plus an optional HMAC signature) over the canonical bytes of the calls.
///
/// The whole document is written in canonical (JCS) form, so `verify-export` rebuilds the hashed bytes from the
/// file itself, and any other JCS implementation can check the hash too.
package struct AuditExport: Sendable {
    package var session: SessionSummary
    package var calls: [CallRecord]
    /// The `calls` array as JSON, the form that is hashed.
    package var callsJSON: JSONValue
    package var generatedAtMicros: Int64
    /// `agentledger <version>`.
    package var generator: String
    /// `sha256:<hex>` of the canonical bytes of `callsJSON`.
    package var integrity: String
    /// `hmac-sha256:<hex>` of the same bytes; nil without a key.
    package var signature: String?

    /// Nil when the session has no calls. `calls` oldest first, as the store returns them.
    package init?(
        sessionID: String, calls: [CallRecord], generatedAtMicros: Int64, generator: String, hmacKey: String?
    ) throws {
        let linked = ToolLinks.link(calls)
        guard let session = SessionSummary(sessionID: sessionID, calls: linked) else { return nil }
        self.session = session
        self.calls = linked
        // The calls exactly as `/session` writes them.
        self.callsJSON = try JSONReader.parse(CallRecord.jsonArray(linked))
        self.generatedAtMicros = generatedAtMicros
        self.generator = generator
        let canonical = try CanonicalJSON.bytes(of: callsJSON)
        integrity = ExportIntegrity.integrity(of: canonical)
        signature = hmacKey.map { ExportIntegrity.signature(of: canonical, key: $0) }
    }

    /// The export document, `{"calls", "export", "session"}`, in canonical form.
    package func document() throws -> [UInt8] {
        var header: [String: JSONValue] = [
            "generated_at": .string(ISOTimestamp.format(micros: generatedAtMicros)),
            "generator": .string(generator),
            "integrity": .string(integrity),
        ]
        if let signature { header["signature"] = .string(signature) }
        let document: JSONValue = .object([
            "export": .object(header), "session": try Self.json(of: session), "calls": callsJSON,
        ])
        return try CanonicalJSON.bytes(of: document)
    }

    /// A value as the API's JSON encoder writes it, read back as `JSONValue`: the records keep the one shape
    /// `/session` serves.
    static func json(of value: some Encodable) throws -> JSONValue {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return try JSONReader.parse(Array(try encoder.encode(value)))
    }
}
