import Crypto

/// The collector's API key (`AGENTLEDGER_API_KEY`), held only as its SHA-256 digest so the secret cannot leak
/// through a log line, a `description` or a crash dump; presented keys are compared in constant time.
package struct APIKey: Sendable, CustomStringConvertible, CustomReflectable {
    private let digest: [UInt8]

    /// Nil when no key is configured (`secret` nil or empty): the API is open.
    package init?(secret: String?) {
        guard let secret, !secret.isEmpty else { return nil }
        digest = Array(SHA256.hash(data: Array(secret.utf8)))
    }

    /// Whether `presented` is the key. Both sides are hashed to the same length first, so the time taken says
    /// nothing about how much of the key matched, nor about its length.
    package func accepts(_ presented: String) -> Bool {
        let candidate = Array(SHA256.hash(data: Array(presented.utf8)))
        var difference: UInt8 = 0
        for index in digest.indices { difference |= digest[index] ^ candidate[index] }
        return difference == 0
    }

    package var description: String { "APIKey(redacted)" }
    package var customMirror: Mirror { Mirror(self, children: []) }
}
