import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Collector

/// `/export/{session_id}`: the shape of docs/reference.md, "Exports", a hash over the canonical calls, and a file that
/// verifies offline.
@Suite struct ExportRoutesTests {
    @Test func exportHasTheContractShape() async throws {
        try await ExportTesting.withAPI(ExportTesting.session) { client in
            let sessionCalls = try await client.execute(uri: "/session/s1", method: .get) {
                try JSONReader.parse(ExportTesting.bytes($0))
            }
            try await client.execute(uri: "/export/s1", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                let document = try JSONReader.parse(ExportTesting.bytes(response))
                #expect(Set(document.objectValue?.keys ?? [:].keys) == ["export", "session", "calls"])
                let header = try #require(document["export"])
                #expect(header["generator"] == .string("agentledger 9.9.9"))
                #expect(header["generated_at"] == .string(ISOTimestamp.format(micros: ExportTesting.fixedNow)))
                #expect(header["signature"] == nil, "no key, no signature")
                let calls = try #require(document["calls"])
                #expect(
                    try CanonicalJSON.bytes(of: calls) == CanonicalJSON.bytes(of: sessionCalls),
                    "the records exactly as /session returns them, as JCS reads numbers")
                #expect(sessionCalls[1]?["tools"]?[0]?["k"] == .int(Int64.max))
                #expect(calls[1]?["tools"]?[0]?["k"] == .double(9_223_372_036_854_775_807), "JCS: beyond 2^53 a double")
                let integrity = ExportIntegrity.integrity(of: try CanonicalJSON.bytes(of: calls))
                #expect(header["integrity"] == .string(integrity))
                #expect(integrity.hasPrefix("sha256:") && integrity.count == 7 + 64)
                let session = try #require(document["session"])
                #expect(session["session_id"] == .string("s1"))
                #expect(session["call_count"] == .int(2))
                #expect(session["error_count"] == .int(1))
                #expect(session["total_tokens_in"] == .int(200))
                #expect(session["started_at"] == .string("1970-01-01T00:00:01.000000Z"))
                #expect(ExportTesting.bytes(response) == (try CanonicalJSON.bytes(of: document)), "written canonically")
            }
        }
    }

    @Test func sessionAggregatesMatchWhatApiSessionsSays() async throws {
        try await ExportTesting.withAPI(ExportTesting.session) { client in
            let listed = try await client.execute(uri: "/api/sessions", method: .get) {
                try JSONReader.parse(ExportTesting.bytes($0))[0]
            }
            let exported = try await client.execute(uri: "/export/s1", method: .get) {
                try JSONReader.parse(ExportTesting.bytes($0))["session"]
            }
            #expect(exported == listed)
        }
    }

    @Test func unknownSessionIs404WithDetail() async throws {
        try await ExportTesting.withAPI(ExportTesting.session) { client in
            for uri in ["/export/nope", "/export/nope/report"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .notFound, "\(uri)")
                    let detail = try JSONReader.parse(ExportTesting.bytes(response))["detail"]
                    #expect(detail == .string("session_id not found"))
                }
            }
        }
    }

    @Test func freshExportVerifiesAndAnEditedPromptDoesNot() async throws {
        try await ExportTesting.withAPI(ExportTesting.session) { client in
            let file = try await client.execute(uri: "/export/s1", method: .get) { ExportTesting.bytes($0) }
            let outcome = ExportVerifier.verify(file, hmacKey: nil)
            #expect(outcome.exitCode == 0, "\(outcome.message)")
            #expect(outcome.message.hasPrefix("valid: 2 calls, sha256:"))

            let text = String(decoding: file, as: UTF8.self)
            let edited = text.replacingOccurrences(of: "alert(", with: "alerT(")
            #expect(edited != text)
            let tampered = ExportVerifier.verify(Array(edited.utf8), hmacKey: nil)
            #expect(tampered.exitCode == 1)
            #expect(tampered.message.contains("integrity hash mismatch"), "\(tampered.message)")
        }
    }

    @Test func signedExportNeedsTheRightKey() async throws {
        try await ExportTesting.withAPI(ExportTesting.session, hmacKey: "s3cret") { client in
            let file = try await client.execute(uri: "/export/s1", method: .get) { ExportTesting.bytes($0) }
            let signature = try JSONReader.parse(file)["export"]?["signature"]?.stringValue
            #expect(signature?.hasPrefix("hmac-sha256:") == true)
            #expect(ExportVerifier.verify(file, hmacKey: "s3cret").exitCode == 0)
            #expect(ExportVerifier.verify(file, hmacKey: "s3cret").message.hasSuffix("signature valid"))
            let wrongKey = ExportVerifier.verify(file, hmacKey: "guess")
            #expect(wrongKey.exitCode == 1)
            #expect(wrongKey.message.contains("signature mismatch"))
            #expect(
                ExportVerifier.verify(file, hmacKey: nil)
                    == .valid(
                        calls: 2,
                        integrity: try #require(
                            try JSONReader.parse(file)["export"]?["integrity"]?.stringValue), signatureChecked: false))
        }
    }
}
