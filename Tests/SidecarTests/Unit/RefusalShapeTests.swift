import Foundation
import LedgerProviders
import NIOCore
import Testing

@testable import Sidecar

/// A refusal reads as its provider's own error, keeps the contract's `error.type` and `error.message`, and tells the
/// official SDKs not to retry a budget refusal (docs/reference.md, "Refusals").
@Suite struct RefusalShapeTests {
    static func json(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any])
    }

    @Test func anthropicRefusalsTakeAnthropicsErrorEnvelope() throws {
        let refusal = ProxyError.refused(
            type: "budget_exceeded", message: "Session budget of $1.0000 exceeded", retryAfterSeconds: nil,
            format: .anthropicMessages)
        let body = try Self.json(refusal.body)
        #expect(body["type"] as? String == "error")
        let error = try #require(body["error"] as? [String: Any])
        #expect(error["type"] as? String == "budget_exceeded")
        #expect(error["message"] as? String == "Session budget of $1.0000 exceeded")
        #expect(refusal.headers.map(\.name) == ["x-should-retry"])
        #expect(refusal.headers.first?.value == "false")
    }

    @Test(arguments: [ProviderFormat.openAIChat, .openAIResponses])
    func openAIRefusalsCarryCodeAndParam(format: ProviderFormat) throws {
        let refusal = ProxyError.refused(
            type: "rate_limit_exceeded", message: "Global rate limit of 10 requests per minute exceeded",
            retryAfterSeconds: 7, format: format)
        let error = try #require(try Self.json(refusal.body)["error"] as? [String: Any])
        #expect(error["type"] as? String == "rate_limit_exceeded")
        #expect(error["code"] as? String == "rate_limit_exceeded")
        #expect(error.keys.contains("param"))
        // A rate limit frees up: the SDK may retry, after the real wait.
        #expect(refusal.headers.map(\.name) == ["retry-after"])
        #expect(refusal.headers.first?.value == "7")
    }

    @Test func aDailyBudgetRefusalSaysBothWhenToRetryAndNotToRetryAutomatically() {
        let refusal = ProxyError.refused(
            type: "budget_exceeded", message: "Daily budget of $5.0000 exceeded", retryAfterSeconds: 3600, format: nil)
        #expect(refusal.headers.map(\.name) == ["retry-after", "x-should-retry"])
        #expect(String(buffer: refusal.body).hasPrefix(#"{"error":{"type":"budget_exceeded","message":"#))
        #expect(ProxyError.collectorUnavailable.headers.isEmpty)
    }
}
