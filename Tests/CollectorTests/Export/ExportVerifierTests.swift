import Foundation
import Testing

@testable import Collector

/// `verify-export`'s checks on export files: what passes, what is tampered (exit 1) and what is unreadable (exit 2).
@Suite struct ExportVerifierTests {
    static func document(hmacKey: String? = nil) throws -> [UInt8] {
        let export = try #require(
            try AuditExport(
                sessionID: "s1", calls: ExportTesting.session, generatedAtMicros: 0, generator: "agentledger test",
                hmacKey: hmacKey))
        return try export.document()
    }

    static func edit(_ bytes: [UInt8], _ change: (inout JSONValue) -> Void) throws -> [UInt8] {
        var document = try JSONReader.parse(bytes)
        change(&document)
        return try CanonicalJSON.bytes(of: document)
    }

    @Test func awkwardNumbersAndTextSurviveTheRoundTrip() throws {
        let outcome = ExportVerifier.verify(try Self.document(), hmacKey: nil)
        #expect(outcome.exitCode == 0, "\(outcome.message)")
    }

    @Test func whitespaceAndMemberOrderDoNotMatter() throws {
        let document = try JSONReader.parse(try Self.document())
        let pretty = try JSONSerialization.data(
            withJSONObject: try JSONSerialization.jsonObject(with: Data(try CanonicalJSON.bytes(of: document))),
            options: [.prettyPrinted])
        let outcome = ExportVerifier.verify(Array(pretty), hmacKey: nil)
        #expect(outcome.exitCode == 0, "a pretty-printed export still verifies: \(outcome.message)")
    }

    @Test func oneChangedByteOfAPromptIsTampering() throws {
        var file = try Self.document()
        let prompt = Array("helpful".utf8)
        let start = try #require(file.indices.first { file[$0...].starts(with: prompt) })
        file[start] = UInt8(ascii: "H")
        let outcome = ExportVerifier.verify(file, hmacKey: nil)
        #expect(outcome.exitCode == 1)
        #expect(outcome.message.contains("integrity hash mismatch"))
    }

    @Test func rehashedCallsStillFailTheSignature() throws {
        let file = try Self.edit(try Self.document(hmacKey: "k")) { document in
            guard case .object(var root) = document, case .array(var calls) = root["calls"],
                case .object(var call) = calls[0], case .object(var header) = root["export"]
            else { return }
            call["content"] = .string("a different answer")
            calls[0] = .object(call)
            header["integrity"] = .string(ExportIntegrity.integrity(of: (try? CanonicalJSON.bytes(of: .array(calls))) ?? []))
            root["calls"] = .array(calls)
            root["export"] = .object(header)
            document = .object(root)
        }
        #expect(ExportVerifier.verify(file, hmacKey: nil).exitCode == 0, "without the key a rehash goes unnoticed")
        let outcome = ExportVerifier.verify(file, hmacKey: "k")
        #expect(outcome.exitCode == 1)
        #expect(outcome.message.contains("signature mismatch"))
    }

    @Test func aKeyForAnUnsignedExportFails() throws {
        let outcome = ExportVerifier.verify(try Self.document(), hmacKey: "k")
        #expect(outcome.exitCode == 1)
        #expect(outcome.message.contains("no signature"))
        #expect(ExportVerifier.verify(try Self.document(hmacKey: "k"), hmacKey: "").exitCode == 0, "empty key: unchecked")
    }

    @Test func aSessionBlockThatDisagreesWithTheCallsFails() throws {
        let recounted = try Self.edit(try Self.document()) { document in
            guard case .object(var root) = document, case .object(var session) = root["session"] else { return }
            session["call_count"] = .int(1)
            root["session"] = .object(session)
            document = .object(root)
        }
        #expect(ExportVerifier.verify(recounted, hmacKey: nil).message.contains("call_count"))
        let missingHash = try Self.edit(try Self.document()) { document in
            guard case .object(var root) = document else { return }
            root["export"] = .object([:])
            document = .object(root)
        }
        #expect(ExportVerifier.verify(missingHash, hmacKey: nil) == .tampered("export.integrity is missing"))
    }

    @Test func unreadableFilesExitWith2() {
        for text in ["", "not json", "[1,2]", #"{"export":{}}"#, #"{"calls":{}}"#, #"{"calls":[1,"#] {
            let outcome = ExportVerifier.verify(Array(text.utf8), hmacKey: nil)
            #expect(outcome.exitCode == 2, "\(text): \(outcome.message)")
            #expect(outcome.message.hasPrefix("unreadable: "))
        }
    }
}
