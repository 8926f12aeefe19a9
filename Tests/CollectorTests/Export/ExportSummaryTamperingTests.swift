import Testing

@testable import Collector

/// Every field of an export's `session` block is held to its calls (issue 14 item 15: editing
/// `session.total_cost_usd` or `user_id` still verified as valid).
@Suite struct ExportSummaryTamperingTests {
    static func withSession(_ field: String, _ value: JSONValue) throws -> [UInt8] {
        try ExportVerifierTests.edit(try ExportVerifierTests.document()) { document in
            guard case .object(var root) = document, case .object(var session) = root["session"] else { return }
            session[field] = value
            root["session"] = .object(session)
            document = .object(root)
        }
    }

    @Test(arguments: [
        ("total_cost_usd", JSONValue.double(0.0001)), ("total_cost_usd", .int(0)), ("user_id", .string("someone-else")),
        ("user_id", .string("")), ("model_id", .string("gpt-3.5-turbo")), ("agent_name", .string("x")),
        ("total_tokens_in", .int(1)), ("total_tokens_out", .int(999_999)), ("error_count", .int(7)),
        ("blocked_count", .int(3)), ("total_latency_ms", .double(1)), ("started_at", .string("2020-01-01T00:00:00.000000Z")),
        ("ended_at", .string("2099-01-01T00:00:00.000000Z")), ("environment", .string("staging")),
        ("sources", .array([.string("forged")])), ("extra_field", .string("added")),
    ])
    func anEditedSummaryFieldIsTampering(field: String, value: JSONValue) throws {
        let outcome = ExportVerifier.verify(try Self.withSession(field, value), hmacKey: nil)
        #expect(outcome.exitCode == 1, "\(field): \(outcome.message)")
        #expect(outcome.message.contains("session.\(field)"), "\(outcome.message)")
    }

    @Test func theUntouchedSummaryAgreesWithItsCalls() throws {
        #expect(ExportVerifier.verify(try ExportVerifierTests.document(), hmacKey: nil).exitCode == 0)
        #expect(ExportVerifier.verify(try ExportVerifierTests.document(hmacKey: "k"), hmacKey: "k").exitCode == 0)
    }
}
