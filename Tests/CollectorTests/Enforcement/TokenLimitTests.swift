import LedgerProtocol
import Testing

@testable import Collector

/// Token-per-minute limits (`token_limits` in the policy file): calls in flight hold their expected tokens, settled
/// calls count their real tokens for a sliding minute, and a refusal says when enough tokens leave the window.
@Suite struct TokenLimitTests {
    static let morning = EnforcementStateTests.morning
    static let second: Int64 = 1_000_000

    /// 400 body bytes (100 input tokens as admission counts them) and `max_tokens` 1,000.
    static func request(_ id: String, agent: String = "bot") -> AdmissionRequest {
        AdmissionRequest(
            actionID: id, keys: SpendLedger.Keys(agentName: agent, model: "gpt-4o"), model: "gpt-4o", bodyBytes: 400,
            maxTokens: 1000)
    }

    static func state(_ file: String) throws -> EnforcementState {
        var policy = EnforcementPolicy()
        try PolicyFile.apply(file, to: &policy, path: "p.yaml")
        return EnforcementState(policy: policy, prices: .builtIn, now: morning)
    }

    static func admitted(_ decision: AdmissionDecision) -> Bool {
        if case .admit = decision { true } else { false }
    }

    @Test func callsInFlightHoldTheirExpectedTokensAndSettledOnesCountTheirRealOnes() throws {
        var state = try Self.state("token_limits:\n  agent: {\"*\": 1500}\n")
        #expect(state.policy.isActive)
        // The first call holds 100 input + 1,000 expected output tokens.
        #expect(Self.admitted(state.admit(Self.request("a"), now: Self.morning)))
        guard case .refuse(let refusal) = state.admit(Self.request("b"), now: Self.morning + Self.second) else {
            Issue.record("a second call was admitted while the first held 1,100 of 1,500 tokens")
            return
        }
        #expect(refusal.kind == .rateLimit)
        #expect(refusal.message.hasPrefix("Agent token limit of 1500 tokens per minute exceeded (current: 1100"))
        #expect(refusal.retryAfterSeconds == 60, "only a call in flight holds the tokens: the whole window")
        // Another agent has its own window.
        #expect(Self.admitted(state.admit(Self.request("c", agent: "other"), now: Self.morning)))
        // The first call used 300 tokens in all: its hold goes, its 300 count.
        state.settle(
            actionID: "a", costUSD: 0.001, keys: SpendLedger.Keys(agentName: "bot", model: "gpt-4o"),
            arrivedAt: Self.morning, now: Self.morning + 2 * Self.second, model: "gpt-4o", tokensIn: 200, tokensOut: 100)
        #expect(Self.admitted(state.admit(Self.request("b"), now: Self.morning + 3 * Self.second)))
        state.settle(
            actionID: "b", costUSD: 0.001, keys: SpendLedger.Keys(agentName: "bot", model: "gpt-4o"),
            arrivedAt: Self.morning, now: Self.morning + 4 * Self.second, model: "gpt-4o", tokensIn: 1000, tokensOut: 150)
        // 1,450 settled: another 1,100 expected does not fit; 1,050 must leave, so both calls' tokens: at 64 s.
        guard case .refuse(let again) = state.admit(Self.request("d"), now: Self.morning + 5 * Self.second) else {
            Issue.record("a call was admitted past 1,450 of 1,500 tokens")
            return
        }
        #expect(again.retryAfterSeconds == 59)
        #expect(!Self.admitted(state.admit(Self.request("d"), now: Self.morning + 63 * Self.second)))
        #expect(Self.admitted(state.admit(Self.request("d"), now: Self.morning + 64 * Self.second + 1)))
    }

    @Test func aZeroLimitRefusesEverythingAndAbsurdCountsSaturate() throws {
        var state = try Self.state("token_limits:\n  model: {gpt-4o: 0, \"*\": 1000000}\n")
        #expect(!Self.admitted(state.admit(Self.request("a"), now: Self.morning)))
        var other = Self.request("b")
        other.model = "gpt-4o-mini"
        other.keys.model = "gpt-4o-mini"
        #expect(Self.admitted(state.admit(other, now: Self.morning)))
        state.settle(
            actionID: "b", costUSD: nil, keys: other.keys, arrivedAt: Self.morning, now: Self.morning,
            model: "gpt-4o-mini", tokensIn: .max, tokensOut: .max)
        #expect(!Self.admitted(state.admit(other, now: Self.morning)))
        _ = state.sweep(now: Self.morning + 61 * Self.second)
        #expect(Self.admitted(state.admit(other, now: Self.morning + 61 * Self.second)))
    }

    @Test func theFileAndTheAPIAreChecked() throws {
        var policy = EnforcementPolicy()
        try PolicyFile.apply("token_limits: {global: 5000000, user: {u1: 1000}}\n", to: &policy, path: "p.yaml")
        #expect(policy.tpm(.global, key: "") == 5_000_000 && policy.tpm(.user, key: "u1") == 1000)
        #expect(policy.tpm(.user, key: "u2") == nil)
        #expect(throws: PolicyFileError.self) {
            var other = EnforcementPolicy()
            try PolicyFile.apply("token_limits: {agent: -1}\n", to: &other, path: "p.yaml")
        }
        #expect(throws: PolicyOverrideError.self) {
            try PolicyOverride(kind: .tokenLimit, scope: "agent", key: "a", limit: 1.5).validated()
        }
        let set = policy.applying([PolicyOverride(kind: .tokenLimit, scope: "agent", key: "*", limit: 2000)])
        #expect(set.tpm(.agent, key: "anyone") == 2000)
        #expect(set.limit(at: .init(kind: .tokenLimit, scope: "user", key: "u1")) == 1000)
    }
}
