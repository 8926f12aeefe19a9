/// Checks a saved audit export offline (`agentledger verify-export`): recomputes the integrity hash of its
/// `calls` and, with a key, its HMAC signature. Pure: bytes and a key in, an outcome out.
package enum ExportVerifier {
    /// What the check found, with the exit code `verify-export` leaves with.
    package enum Outcome: Equatable, Sendable {
        /// Every check passed; `signatureChecked` is false when the export is signed but no key was given.
        case valid(calls: Int, integrity: String, signatureChecked: Bool)
        /// A check failed; the reason names which.
        case tampered(String)
        /// Not an export at all: not JSON, or no `calls` array.
        case unreadable(String)

        package var exitCode: Int32 {
            switch self {
            case .valid: 0
            case .tampered: 1
            case .unreadable: 2
            }
        }

        /// The one line `verify-export` prints.
        package var message: String {
            switch self {
            case .valid(let calls, let integrity, let signatureChecked):
                let signature = signatureChecked ? ", signature valid" : ""
                return "valid: \(calls) call\(calls == 1 ? "" : "s"), \(integrity)\(signature)"
            case .tampered(let reason): return "tampered: \(reason)"
            case .unreadable(let reason): return "unreadable: \(reason)"
            }
        }
    }

    /// `hmacKey` nil or empty: the signature, if any, is not checked. A key given for an export without a
    /// signature fails: an unsigned file cannot stand in for a signed one.
    package static func verify(_ bytes: [UInt8], hmacKey: String?) -> Outcome {
        let document: JSONValue
        do {
            document = try JSONReader.parse(bytes)
        } catch {
            return .unreadable("not JSON (\(error))")
        }
        guard let calls = document["calls"], case .array(let records) = calls else {
            return .unreadable("no \"calls\" array: not an AgentLedger export")
        }
        let canonical: [UInt8]
        do {
            canonical = try CanonicalJSON.bytes(of: calls)
        } catch {
            return .tampered("calls cannot be canonicalized (\(error))")
        }
        guard let claimed = document["export"]?["integrity"]?.stringValue else {
            return .tampered("export.integrity is missing")
        }
        let integrity = ExportIntegrity.integrity(of: canonical)
        guard claimed == integrity else {
            return .tampered("integrity hash mismatch: the file says \(claimed), the calls hash to \(integrity)")
        }
        if let problem = summaryMismatch(document["session"], records) { return .tampered(problem) }
        guard let key = hmacKey, !key.isEmpty else {
            return .valid(calls: records.count, integrity: integrity, signatureChecked: false)
        }
        guard let signature = document["export"]?["signature"]?.stringValue else {
            return .tampered("a key was given but the export has no signature (unsigned or stripped)")
        }
        guard ExportIntegrity.isValidSignature(signature, of: canonical, key: key) else {
            return .tampered("signature mismatch: wrong key, or the calls were changed and rehashed")
        }
        return .valid(calls: records.count, integrity: integrity, signatureChecked: true)
    }
}
