import LedgerProtocol
import LedgerTestSupport
import NIOCore
import Testing

@testable import Sidecar

/// The admission client's bookkeeping without sockets: frames go to the link's outbox, verdicts come back by id.
@Suite struct AdmissionClientTests {
    static func admit(_ id: UInt64) -> Admit {
        Admit(requestID: id, actionID: "a\(id)", model: "gpt-4o", bodyBytes: 10)
    }

    @Test func withoutARequirementNothingIsAsked() async {
        let client = AdmissionClient()
        #expect(await client.admit(Self.admit) == .notRequired)
        _ = client.attach()
        client.welcomed(admissionRequired: false)
        #expect(await client.admit(Self.admit) == .notRequired)
    }

    @Test func aVerdictIsMatchedToItsRequestByID() async throws {
        let client = AdmissionClient(timeout: .seconds(10))
        let outbox = client.attach()
        client.welcomed(admissionRequired: true)
        async let first = client.admit(Self.admit)
        async let second = client.admit(Self.admit)
        var sent: [Admit] = []
        for await _ in outbox {
            for frame in client.takeFrames() {
                guard case .admit(let admit) = try FrameDecoder.decodeSingle(Array(frame.readableBytesView)) else {
                    continue
                }
                sent.append(admit)
            }
            if sent.count == 2 { break }
        }
        let refusal = Verdict(requestID: sent[1].requestID, decision: .refuse, refusalType: "rate_limit_exceeded")
        client.resolve(refusal)
        client.resolve(Verdict(requestID: sent[0].requestID, decision: .admit))
        let outcomes = await [first, second]
        #expect(Set(sent.map(\.requestID)).count == 2)
        #expect(outcomes.contains(.refused(refusal)))
        #expect(outcomes.contains(.admitted))
    }

    @Test func noVerdictInTimeIsUnavailable() async {
        let client = AdmissionClient(timeout: .milliseconds(50))
        _ = client.attach()
        client.welcomed(admissionRequired: true)
        guard case .unavailable(let reason) = await client.admit(Self.admit) else {
            Issue.record("expected no decision")
            return
        }
        #expect(reason.contains("in time"))
    }

    @Test func aLostLinkReleasesEveryWaitingCallAndLaterCallsAreUnavailable() async throws {
        let client = AdmissionClient(timeout: .seconds(30))
        let outbox = client.attach()
        client.welcomed(admissionRequired: true)
        let waiting = Task { await client.admit(Self.admit) }
        for await _ in outbox { break }
        client.detach()
        let outcome = try await Integration.within(.seconds(5), "the waiting call to be released") { await waiting.value }
        #expect(outcome == .unavailable("collector link lost before a verdict"))
        #expect(await client.admit(Self.admit) == .unavailable("no collector link"))
    }

    @Test func theCallSummaryReadsModelAndEachProvidersOutputCap() {
        #expect(
            CallSummary(body: ByteBuffer(string: #"{"model":"gpt-4o","max_completion_tokens":70}"#))
                == CallSummary(model: "gpt-4o", maxTokens: 70))
        #expect(
            CallSummary(body: ByteBuffer(string: #"{"model":"claude-sonnet-4-5","max_tokens":1024}"#))
                == CallSummary(model: "claude-sonnet-4-5", maxTokens: 1024))
        #expect(
            CallSummary(body: ByteBuffer(string: #"{"model":"o3","max_output_tokens":9}"#))
                == CallSummary(model: "o3", maxTokens: 9))
        #expect(CallSummary(body: ByteBuffer(string: "not json")) == CallSummary(model: "", maxTokens: nil))
        #expect(
            CallSummary(body: ByteBuffer(string: #"{"model":"m","max_tokens":-1}"#)) == CallSummary(model: "m", maxTokens: nil))
    }

    @Test func theScanReadsOnlyTopLevelMembersWhateverComesBefore() {
        let body = #"""
            { "messages" : [ {"role":"user","content":"say "model": "evil", {"max_tokens": 1}"},
              {"model": "nested", "max_tokens": 5, "x": [1, [2, {"y": "}"}]]} ],
              "stream": true, "temperature": 0.5, "tools": [], "meta": null,
              "model" : "claude-3-5-sonnet\u0020x", "max_tokens" : 2048.0 }
            """#
        #expect(
            CallSummary(body: ByteBuffer(string: body)) == CallSummary(model: #"claude-3-5-sonnet x"#, maxTokens: 2048))
        #expect(
            CallSummary(body: ByteBuffer(string: #"{"model": 7, "max_tokens": "9"}"#)) == CallSummary(model: "", maxTokens: nil))
        #expect(CallSummary(body: ByteBuffer(string: #"{"model": "cut"#)) == CallSummary(model: "", maxTokens: nil))
        #expect(CallSummary(body: ByteBuffer(string: "[1,2]")) == CallSummary(model: "", maxTokens: nil))
    }
}
