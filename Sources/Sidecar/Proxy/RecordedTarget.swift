import Foundation

/// The request target as a record keeps it (docs/operations.md, "What is recorded"): the path as sent, and a
/// query whose credential-like parameters (`key`, `api-key`, `token`, `signature`, ...) have their values replaced
/// by `REDACTED`. The request forwarded upstream keeps the original; only the record, the spool and the collector
/// see this one. The path part is never changed: the collector picks the provider's format from it.
enum RecordedTarget {
    static let redacted = "REDACTED"

    /// `target` with the value of every credential-like query parameter replaced.
    static func scrubbed(_ target: String) -> String {
        guard let question = target.firstIndex(of: "?") else { return target }
        let query = target[target.index(after: question)...]
        var parts: [Substring] = []
        var changed = false
        for parameter in query.split(separator: "&", omittingEmptySubsequences: false) {
            guard let equals = parameter.firstIndex(of: "="), looksLikeCredential(parameter[..<equals]) else {
                parts.append(parameter)
                continue
            }
            changed = true
            parts.append(parameter[...equals] + redacted)
        }
        guard changed else { return target }
        return String(target[...question]) + parts.joined(separator: "&")
    }

    /// Whether a query parameter's name (percent-encoded as sent) names a secret. Errs on the side of redacting:
    /// a redacted harmless value costs nothing, a recorded key is a leak.
    static func looksLikeCredential(_ encodedName: Substring) -> Bool {
        let decoded = String(encodedName).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
        let name = (decoded ?? String(encodedName)).lowercased().filter { $0.isLetter || $0.isNumber }
        switch name {
        case "sig", "pwd", "pass", "code", "jwt", "bearer", "otp": return true
        default: break
        }
        return ["key", "token", "secret", "passw", "signature", "auth", "credential", "session", "cookie"].contains {
            name.contains($0)
        }
    }
}
