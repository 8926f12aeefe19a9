import Crypto

/// The messages of a batch of calls, content-addressed: each call's ordered digests, and each distinct message once
/// with the call that first holds it (its owner, whose search document indexes it when it is new to the store).
struct MessageBatch {
    /// One distinct message of the batch.
    struct Message {
        var digest: [UInt8]
        /// Canonical JSON text, the bytes the digest is of.
        var text: String
        var value: JSONValue
        /// The index of the first record holding it, and its position among that record's messages.
        var owner: Int
        var position: Int
        /// The time of the newest record of the batch holding it (µs since the epoch), noted on the stored message
        /// so that retention keeps it while a kept call holds it (`Retention`).
        var lastUsedMicros: Int64
    }

    /// Per record, the concatenated digests of its messages (`calls.message_hashes`).
    private(set) var digests: [[UInt8]] = []
    /// Distinct messages, in the order first seen.
    private(set) var messages: [Message] = []

    init(_ records: [CallRecord]) {
        var seen = [SHA256.Digest: Int]()
        var text: [UInt8] = []
        digests.reserveCapacity(records.count)
        // By index: an enumerated sequence copies each record (retaining every field on the way).
        for owner in records.indices {
            var list: [UInt8] = []
            list.reserveCapacity(MessageDigest.size * records[owner].messages.count)
            for (position, value) in records[owner].messages.enumerated() {
                // History is resent with every call, so most messages repeat one already in the batch: those cost
                // their encoding and digest, and no string or array of their own.
                text.removeAll(keepingCapacity: true)
                JSONWriter.write(value, to: &text)
                let digest = text.withUnsafeBytes { SHA256.hash(data: $0) }
                digest.withUnsafeBytes { list.append(contentsOf: $0) }
                let micros = records[owner].timestampMicros
                if let index = seen[digest] {
                    if messages[index].lastUsedMicros < micros { messages[index].lastUsedMicros = micros }
                } else {
                    seen[digest] = messages.count
                    messages.append(
                        Message(
                            digest: Array(digest), text: String(decoding: text, as: UTF8.self), value: value, owner: owner,
                            position: position, lastUsedMicros: micros))
                }
            }
            digests.append(list)
        }
    }

    /// Per record, the messages it owns among `messages`, oldest first.
    func owned(_ messages: some Sequence<Message>) -> [[JSONValue]] {
        var owned = [[JSONValue]](repeating: [], count: digests.count)
        for message in messages { owned[message.owner].append(message.value) }
        return owned
    }
}
