import LedgerTestSupport
import Testing

@testable import Collector

/// Expected mode (the default) admits what fits and reserves what a call is expected to cost; strict mode reserves the
/// worst case. docs/operations.md, "Budgets and rate limits", states each mode's worst overshoot; the burst test below
/// checks it on random bursts.
@Suite struct AdmissionModeTests {
    static let morning = EnforcementStateTests.morning

    static func state(_ configure: (inout EnforcementPolicy) -> Void) -> EnforcementState {
        EnforcementStateTests.state { policy in
            policy.admissionMode = .expected
            configure(&policy)
        }
    }

    /// gpt-4o-mini, $0.15 in / $0.60 out per million; a one-word prompt is a ~100-byte body.
    static func miniCall(_ id: String, maxTokens: Int? = nil, bodyBytes: Int = 100) -> AdmissionRequest {
        AdmissionRequest(
            actionID: id, keys: SpendLedger.Keys(sessionID: "s1"), model: "gpt-4o-mini", bodyBytes: bodyBytes,
            maxTokens: maxTokens)
    }

    /// The case that made strict mode the wrong default: a $0.002 session budget, a first call without max_tokens.
    @Test func aSmallBudgetAdmitsItsFirstCall() {
        var expected = Self.state { $0.sessionBudget = 0.002 }
        // 25 input tokens x $0.15 + 1,024 expected output tokens x $0.60 per million.
        #expect(expected.admit(Self.miniCall("a"), now: Self.morning) == .admit(reserved: Nanodollars(usd: 0.00061815)))

        var strict = Self.state {
            $0.sessionBudget = 0.002
            $0.admissionMode = .strict
        }
        guard case .refuse(let refusal) = strict.admit(Self.miniCall("a"), now: Self.morning) else {
            Issue.record("strict mode admitted a call whose worst case is over the budget")
            return
        }
        // ($0.002 - 25 x $0.15e-6) / $0.60e-6 = 3,327 output tokens.
        #expect(refusal.message.hasSuffix("A max_tokens of 3327 or less would fit."))
        #expect(refusal.message.contains("this call up to $0.0025"))
        guard case .admit = strict.admit(Self.miniCall("c", maxTokens: 3327), now: Self.morning) else {
            Issue.record("the advised max_tokens did not fit")
            return
        }
    }

    @Test func expectedModeRefusesWithoutHeadroomOrWhenTheInputAloneDoesNotFit() {
        var state = Self.state { $0.sessionBudget = 0.001 }
        // 40,000 bytes = 10,000 input tokens = $0.0015 of input alone: over the $0.001 budget.
        guard case .refuse(let big) = state.admit(Self.miniCall("big", bodyBytes: 40_000), now: Self.morning) else {
            Issue.record("a call whose input alone exceeds the headroom was admitted")
            return
        }
        #expect(big.message.contains("this call's input $0.0015"))
        // Two calls reserve 2 x $0.00061815 > $0.001: the second is admitted (headroom was left), the third is not.
        #expect(state.admit(Self.miniCall("a"), now: Self.morning) == .admit(reserved: Nanodollars(usd: 0.00061815)))
        #expect(state.admit(Self.miniCall("b"), now: Self.morning) == .admit(reserved: Nanodollars(usd: 0.00061815)))
        guard case .refuse(let none) = state.admit(Self.miniCall("c"), now: Self.morning) else {
            Issue.record("a call was admitted with no headroom left")
            return
        }
        #expect(none.message == "Session budget of $0.0010 exceeded (current spend and reservations: $0.0012) Session: s1.")
    }

    @Test func theOutputEstimateLearnsFromSettledCallsAndIsCappedByMaxTokens() {
        var state = Self.state { $0.dailyBudget = 100 }
        let request = Self.miniCall("probe")
        #expect(state.expectedOutputTokens(of: request) == 1024, "no history: the policy's figure")
        // 96 calls answering 1...96 tokens (the estimate is refreshed every 8 calls): the 95th percentile is 92.
        for tokens in 1...96 {
            state.settle(
                actionID: "h\(tokens)", costUSD: 0, keys: SpendLedger.Keys(), arrivedAt: Self.morning, now: Self.morning,
                model: "gpt-4o-mini", tokensIn: 10, tokensOut: tokens)
        }
        #expect(state.expectedOutputTokens(of: request) == 92)
        #expect(state.expectedOutputTokens(of: Self.miniCall("capped", maxTokens: 40)) == 40)
        #expect(state.modelsWithOutputHistory == 1)
        // The window is the last 128 calls: 200 long answers push the short ones out.
        for index in 0..<200 {
            state.settle(
                actionID: "l\(index)", costUSD: 0, keys: SpendLedger.Keys(), arrivedAt: Self.morning, now: Self.morning,
                model: "gpt-4o-mini", tokensIn: 10, tokensOut: 5000 + index)
        }
        #expect(state.expectedOutputTokens(of: request) >= 5000)
        // Absurd counts from a provider neither trap nor go negative.
        state.settle(
            actionID: "x", costUSD: 0, keys: SpendLedger.Keys(), arrivedAt: Self.morning, now: Self.morning,
            model: "gpt-4o-mini", tokensIn: 10, tokensOut: .max)
        state.settle(
            actionID: "y", costUSD: 0, keys: SpendLedger.Keys(), arrivedAt: Self.morning, now: Self.morning,
            model: "gpt-4o-mini", tokensIn: 10, tokensOut: -5)
        #expect(state.expectedOutputTokens(of: request) > 0)
    }

    @Test func unpricedModelsFollowTheConfiguredRule() {
        let call = AdmissionRequest(
            actionID: "u", keys: SpendLedger.Keys(sessionID: "s1"), model: "my-llama-70b", bodyBytes: 400, maxTokens: 100)
        var admit = Self.state { $0.sessionBudget = 1 }
        #expect(admit.admit(call, now: Self.morning) == .admit(reserved: .zero))

        var refuse = Self.state {
            $0.sessionBudget = 1
            $0.unpriced = .refuse
        }
        guard case .refuse(let refusal) = refuse.admit(call, now: Self.morning) else {
            Issue.record("an unpriced call was admitted under AGENTLEDGER_UNPRICED_MODELS=refuse")
            return
        }
        #expect(refusal.message.contains("model my-llama-70b has no known price"))
        var noBudgetForIt = Self.state {
            $0.agentBudget = 1
            $0.unpriced = .refuse
        }
        #expect(noBudgetForIt.admit(call, now: Self.morning) == .admit(reserved: .zero), "no budget applies to it")

        // A stand-in price of $1 / $2 per million: reserved (100 in, 100 out expected) and settled at that price.
        var priced = Self.state {
            $0.sessionBudget = 1
            $0.unpriced = .price(ModelPrice(input: 1, output: 2, cacheRead: 1, cacheWrite: 1))
        }
        #expect(priced.admit(call, now: Self.morning) == .admit(reserved: Nanodollars(usd: 0.0003)))
        priced.settle(
            actionID: "u", costUSD: nil, keys: SpendLedger.Keys(sessionID: "s1"), arrivedAt: Self.morning, now: Self.morning,
            model: "my-llama-70b", tokensIn: 1000, tokensOut: 500)
        #expect(priced.ledger.sessionCommitted("s1") == Nanodollars(usd: 0.002))
    }

    /// Random bursts against one budget, some calls settling between admissions at a random cost up to their worst
    /// case, the rest costing their worst case. The spend never passes the documented bound: strict, the limit;
    /// expected, the limit plus the worst case of the last call admitted plus, for every call in flight when it was
    /// admitted, its worst case less its reservation.
    @Test(arguments: [AdmissionMode.strict, .expected])
    func burstsStayWithinTheDocumentedOvershoot(mode: AdmissionMode) {
        var generator = SplitMix64(seed: 0x5EED)
        var roundsWithRefusals = 0
        for round in 0..<40 {
            let limit = Nanodollars(usd: Double(1 + Int(generator.next() % 50)) / 1000)
            var state = Self.state {
                $0.sessionBudget = limit.usd
                $0.admissionMode = mode
            }
            var inFlight: [(id: String, worst: Nanodollars, reserved: Nanodollars)] = []
            var spent = Nanodollars.zero
            var bound = limit
            var refusals = 0
            for index in 0..<120 {
                if !inFlight.isEmpty, generator.next() % 3 == 0 {
                    let call = inFlight.remove(at: Int(generator.next() % UInt64(inFlight.count)))
                    let cost = Nanodollars(call.worst.value * Int64(generator.next() % 101) / 100)
                    spent = spent + cost
                    state.settle(
                        actionID: call.id, costUSD: cost.usd, keys: SpendLedger.Keys(sessionID: "s1"), arrivedAt: Self.morning,
                        now: Self.morning)
                }
                let maxTokens = generator.next() % 2 == 0 ? nil : 1 + Int(generator.next() % 8000)
                let request = Self.miniCall(
                    "r\(round)-\(index)", maxTokens: maxTokens, bodyBytes: 100 + Int(generator.next() % 4000))
                let worst = state.worstCase(of: request) ?? .zero
                guard case .admit(let reserved) = state.admit(request, now: Self.morning) else {
                    refusals += 1
                    continue
                }
                if mode == .expected {
                    bound = inFlight.reduce(limit + worst) { $0 + ($1.worst - $1.reserved) }
                }
                inFlight.append((request.actionID, worst, reserved))
            }
            if refusals > 0 { roundsWithRefusals += 1 }
            let final = inFlight.reduce(spent) { $0 + $1.worst }
            #expect(final <= bound, "round \(round): spent \(final), limit \(limit), bound \(bound)")
        }
        #expect(roundsWithRefusals >= 30, "the bursts must reach their budgets")
    }
}
