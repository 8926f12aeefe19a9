import LedgerProtocol
import Testing

@testable import Collector

/// A follower among several collectors answers no ADMIT itself (docs/operations.md, "One enforcer"): it asks the
/// enforcer over the frame protocol and relays the VERDICT under the sidecar's request id; with no enforcer to ask it
/// answers nothing, so the sidecar follows `AGENTLEDGER_ON_COLLECTOR_DOWN`.
@Suite("Forwarding ADMITs to the enforcer over real sockets")
struct EnforcerForwardingTests {
    static func policy() -> EnforcementPolicy {
        var policy = EnforcementPolicy()
        policy.sessionRPM = 2
        return policy
    }

    static func admit(_ id: UInt64, session: String = "s") -> Message {
        .admit(Admit(requestID: id, actionID: "act-\(id)", sessionID: session, model: "gpt-4o", bodyBytes: 40))
    }

    @Test func theFollowerRelaysTheEnforcersVerdictsUnderTheSidecarsIDs() async throws {
        try await IngestHarness.run(token: "secret", policy: Self.policy()) { enforcer in
            let follower = Leadership(.follower(enforcer: "127.0.0.1:\(enforcer.port)", epoch: 1))
            try await IngestHarness.run(token: "secret", policy: Self.policy(), leadership: follower) { harness in
                #expect(await IngestHarness.eventually { harness.forwarder?.isLinked == true })
                let verdicts = try await harness.withLink { link in
                    _ = try await link.exchange(ProtocolLink.hello(token: "secret"))
                    var verdicts: [Verdict] = []
                    for id in [UInt64(100), 200, 300] {
                        guard case .verdict(let verdict)? = try await link.exchange(Self.admit(id)) else { continue }
                        verdicts.append(verdict)
                    }
                    return verdicts
                }
                #expect(verdicts.map(\.requestID) == [100, 200, 300])
                #expect(verdicts.map(\.decision) == [.admit, .admit, .refuse])
                #expect(verdicts.last?.refusalType == "rate_limit_exceeded")
                #expect(verdicts.last?.retryAfterSeconds != nil)
                // The follower's own enforcer judged nothing: the enforcer's windows hold the two calls.
                #expect(harness.enforcer?.counters.value(.admissionsForwarded) == 3)
                #expect(enforcer.enforcer?.counters.value(.admitted) == 2)
                #expect(harness.enforcer?.counters.value(.admitted) == 0)
            }
        }
    }

    @Test func withNoEnforcerToAskTheAdmitGoesUnanswered() async throws {
        let follower = Leadership(.follower(enforcer: nil, epoch: 1))
        try await IngestHarness.run(policy: Self.policy(), leadership: follower, forwardTimeout: .milliseconds(100)) {
            harness in
            let answered = try await harness.withLink { link in
                _ = try await link.exchange(ProtocolLink.hello(token: nil))
                try await link.send(Self.admit(1))
                // A PING answered as PONG shows the link alive and nothing ahead of it.
                let reply = try await link.exchange(.ping(nonce: 7))
                return reply
            }
            #expect(answered == .pong(nonce: 7))
            #expect(harness.enforcer?.counters.value(.admissionsUnanswered) == 1)
        }
    }
}
