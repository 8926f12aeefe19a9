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
    }

    /// Per record, the concatenated digests of its messages (`calls.message_hashes`).
    private(set) var digests: [[UInt8]] = []
    /// Distinct messages, in the order first seen.
    private(set) var messages: [Message] = []

    /// A digest as a set member: hashed as its 32 bytes at once rather than byte by byte, as `[UInt8]` is.
    private struct Key: Hashable {
        let digest: [UInt8]

        static func == (a: Key, b: Key) -> Bool { a.digest == b.digest }

        func hash(into hasher: inout Hasher) {
            digest.withUnsafeBytes { hasher.combine(bytes: $0) }
        }
    }

    init(_ records: [CallRecord]) {
        var seen = Set<Key>()
        digests.reserveCapacity(records.count)
        // By index: an enumerated sequence copies each record (retaining every field) on the way.
        for owner in records.indices {
            var list: [UInt8] = []
            list.reserveCapacity(MessageDigest.size * records[owner].messages.count)
            for (position, value) in records[owner].messages.enumerated() {
                let text = JSONText.encode(value)
                let digest = MessageDigest.of(text)
                list.append(contentsOf: digest)
                if seen.insert(Key(digest: digest)).inserted {
                    messages.append(Message(digest: digest, text: text, value: value, owner: owner, position: position))
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
