import Crypto

/// The integrity hash and signature of an export: SHA-256 and HMAC-SHA256 of the canonical (JCS) bytes of its
/// `calls` array, written `sha256:<hex>` and `hmac-sha256:<hex>` (docs/reference.md, "Exports").
package enum ExportIntegrity {
    package static let hashPrefix = "sha256:"
    package static let signaturePrefix = "hmac-sha256:"

    package static func integrity(of canonicalCalls: [UInt8]) -> String {
        hashPrefix + hex(SHA256.hash(data: canonicalCalls))
    }

    /// `key` is the UTF-8 bytes of `AGENTLEDGER_EXPORT_HMAC_KEY`.
    package static func signature(of canonicalCalls: [UInt8], key: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: canonicalCalls, using: SymmetricKey(data: Array(key.utf8)))
        return signaturePrefix + hex(code)
    }

    /// Compares a `hmac-sha256:<hex>` text with the expected code in constant time.
    package static func isValidSignature(_ text: String, of canonicalCalls: [UInt8], key: String) -> Bool {
        guard text.hasPrefix(signaturePrefix), let code = bytes(hex: text.dropFirst(signaturePrefix.count)) else {
            return false
        }
        return HMAC<SHA256>.isValidAuthenticationCode(
            code, authenticating: canonicalCalls, using: SymmetricKey(data: Array(key.utf8)))
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in bytes { text.append(contentsOf: [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]]) }
        return String(decoding: text, as: UTF8.self)
    }

    static func bytes(hex: Substring) -> [UInt8]? {
        let characters = Array(hex.utf8)
        guard characters.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(characters.count / 2)
        for index in stride(from: 0, to: characters.count, by: 2) {
            guard let high = nibble(characters[index]), let low = nibble(characters[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func nibble(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return character - UInt8(ascii: "a") + 10
        default: return nil
        }
    }
}
