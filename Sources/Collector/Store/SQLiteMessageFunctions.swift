import NIOCore
import SQLiteNIO

/// SQL functions for the migration that moves messages into their own table (`SQLiteSchema` version 3): they
/// compute digests exactly as `MessageBatch` does, so a converted message and the same message stored later share a
/// row. Installed on the writer connection.
enum SQLiteMessageFunctions {
    static func install(on connection: SQLiteConnection) async throws {
        // agentledger_message(json): the canonical text of one message.
        try await connection.install(
            customFunction: SQLiteCustomFunction("agentledger_message", argumentCount: 1, pure: true) { arguments in
                JSONText.encode(try JSONText.decode(JSONValue.self, try text(arguments)))
            })
        // agentledger_digest(canonical text): its 32-byte digest.
        try await connection.install(
            customFunction: SQLiteCustomFunction("agentledger_digest", argumentCount: 1, pure: true) { arguments in
                ByteBuffer(bytes: MessageDigest.of(try text(arguments)))
            })
        // agentledger_digests(json array of messages): the concatenated digests, as `calls.message_hashes`.
        try await connection.install(
            customFunction: SQLiteCustomFunction("agentledger_digests", argumentCount: 1, pure: true) { arguments in
                let messages = try JSONText.decode([JSONValue].self, try text(arguments))
                return ByteBuffer(bytes: MessageBatch([conversation(messages)]).digests[0])
            })
    }

    private static func text(_ arguments: [SQLiteData]) throws -> String {
        guard let text = arguments.first?.string else { throw StoreError("expected JSON text") }
        return text
    }

    private static func conversation(_ messages: [JSONValue]) -> CallRecord {
        var record = CallRecord(actionID: "", timestampMicros: 0)
        record.messages = messages
        return record
    }
}
