import Dispatch
import LedgerAdmission
import LedgerMetrics
import LedgerProtocol
import LedgerProviders
import LedgerTestSupport
import NIOCore
import NIOPosix
import Prometheus
import Testing

@testable import Sidecar

/// The admission client's bookkeeping without sockets: frames go to the link's writer on an event loop, verdicts
/// come back by id.
@Suite struct AdmissionClientTests {
    static func admit(_ id: UInt64) -> Admit {
        Admit(requestID: id, actionID: "a\(id)", model: "gpt-4o", bodyBytes: 10)
    }

    /// Attaches a link whose writes arrive on the returned stream, one element per write.
    static func link(
        _ client: AdmissionClient, on loop: any EventLoop = MultiThreadedEventLoopGroup.singleton.any()
    ) -> AsyncStream<[Admit]> {
        let (stream, continuation) = AsyncStream.makeStream(of: [Admit].self)
        client.attach(on: loop) { frames in
            continuation.yield(
                frames.compactMap { frame in
                    guard case .admit(let admit)? = try? FrameDecoder.decodeSingle(Array(frame.readableBytesView)) else {
                        return nil
                    }
                    return admit
                })
        }
        return stream
    }

    @Test func withoutARequirementNothingIsAsked() async {
        let client = AdmissionClient()
        #expect(await client.admit(Self.admit) == .notRequired)
        _ = Self.link(client)
        client.welcomed(admissionRequired: false)
        #expect(await client.admit(Self.admit) == .notRequired)
    }

    @Test func aVerdictIsMatchedToItsRequestByIDAndItsRoundTripIsCounted() async throws {
        let client = AdmissionClient(timeout: .seconds(10))
        let writes = Self.link(client)
        client.welcomed(admissionRequired: true)
        async let first = client.admit(Self.admit)
        async let second = client.admit(Self.admit)
        var sent: [Admit] = []
        for await admits in writes {
            sent += admits
            if sent.count == 2 { break }
        }
        let refusal = Verdict(requestID: sent[1].requestID, decision: .refuse, refusalType: "rate_limit_exceeded")
        client.resolve(refusal)
        client.resolve(Verdict(requestID: sent[0].requestID, decision: .admit))
        client.resolve(Verdict(requestID: 999, decision: .admit))
        let outcomes = await [first, second]
        #expect(Set(sent.map(\.requestID)).count == 2)
        #expect(outcomes.contains(.refused(refusal)))
        #expect(outcomes.contains(.admitted))
        let text = client.registry.prometheusText()
        #expect(text.contains("agentledger_sidecar_admission_seconds_count 2\n"), "an unknown request id is not a round trip")
        #expect(text.contains("agentledger_sidecar_admission_seconds_bucket{le=\"+Inf\"} 2\n"))
    }

    @Test func admitsWaitingTogetherGoOutInOneWrite() async throws {
        let client = AdmissionClient(timeout: .seconds(10))
        let loop = MultiThreadedEventLoopGroup.singleton.any()
        let writes = Self.link(client, on: loop)
        client.welcomed(admissionRequired: true)
        let release = DispatchSemaphore(value: 0)
        loop.execute { release.wait() }  // the loop is busy while the calls queue up
        let calls = (0..<50).map { _ in Task { await client.admit(Self.admit) } }
        #expect(await Integration.eventually { client.waitingCount == 50 }, "50 calls waiting")
        release.signal()
        var iterator = writes.makeAsyncIterator()
        let sent = await iterator.next() ?? []
        #expect(sent.count == 50, "one write carries every ADMIT queued while the loop was busy")
        for admit in sent { client.resolve(Verdict(requestID: admit.requestID, decision: .admit)) }
        for call in calls { #expect(await call.value == .admitted) }
        #expect(client.waitingCount == 0)
    }

    @Test func theLatencyHistogramPutsEachRoundTripInItsBucket() {
        let registry = PrometheusCollectorRegistry()
        let latency = AdmissionLatency(registry: registry)
        latency.record(.microseconds(20))
        latency.record(.microseconds(100))
        latency.record(.microseconds(101))
        latency.record(.seconds(3))
        latency.record(.nanoseconds(-5))  // a clock step back counts as zero
        let text = registry.prometheusText()
        let name = "agentledger_sidecar_admission_seconds"
        #expect(text.contains("# HELP \(name) ADMIT to VERDICT, as this sidecar waited for it.\n# TYPE \(name) histogram\n"))
        #expect(text.contains("\(name)_bucket{le=\"0.000025\"} 2\n"))
        #expect(text.contains("\(name)_bucket{le=\"0.0001\"} 3\n"), "100 µs is inside the le=0.0001 bucket")
        #expect(text.contains("\(name)_bucket{le=\"0.00015\"} 4\n"))
        #expect(text.contains("\(name)_bucket{le=\"1.0\"} 4\n"))
        #expect(text.contains("\(name)_bucket{le=\"+Inf\"} 5\n"))
        #expect(text.contains("\(name)_sum 3.000221\n"))
        #expect(text.contains("\(name)_count 5\n"))
    }

    @Test func noVerdictInTimeIsUnavailable() async {
        let client = AdmissionClient(timeout: .milliseconds(50))
        _ = Self.link(client)
        client.welcomed(admissionRequired: true)
        guard case .unavailable(let reason) = await client.admit(Self.admit) else {
            Issue.record("expected no decision")
            return
        }
        #expect(reason.contains("in time"))
    }

    @Test func aLostLinkReleasesEveryWaitingCallAndLaterCallsAreUnavailable() async throws {
        let client = AdmissionClient(timeout: .seconds(30))
        let writes = Self.link(client)
        client.welcomed(admissionRequired: true)
        let waiting = Task { await client.admit(Self.admit) }
        for await _ in writes { break }
        client.detach()
        let outcome = try await Integration.within(.seconds(5), "the waiting call to be released") { await waiting.value }
        #expect(outcome == .unavailable("collector link lost before a verdict"))
        #expect(await client.admit(Self.admit) == .unavailable("no collector link"))
    }

    @Test func theCallSummaryReadsModelAndEachProvidersOutputCap() {
        #expect(
            CallSummary(body: ByteBuffer(string: #"{"model":"gpt-4o","max_completion_tokens":70}"#), format: .openAIChat)
                == CallSummary(model: "gpt-4o", maxTokens: 70))
        #expect(
            CallSummary(
                body: ByteBuffer(string: #"{"model":"claude-sonnet-4-5","max_tokens":1024}"#), format: .anthropicMessages)
                == CallSummary(model: "claude-sonnet-4-5", maxTokens: 1024))
        #expect(
            CallSummary(body: ByteBuffer(string: #"{"model":"o3","max_output_tokens":9}"#), format: .openAIResponses)
                == CallSummary(model: "o3", maxTokens: 9))
        #expect(CallSummary(body: ByteBuffer(string: "not json"), format: .openAIChat) == CallSummary(model: "", maxTokens: nil))
        #expect(
            CallSummary(body: ByteBuffer(string: #"{"model":"m","max_tokens":-1}"#), format: .openAIChat)
                == CallSummary(model: "m", maxTokens: nil))
        // Chat completions: the new name before the old; a member of another format's description is not a cap.
        let both = ByteBuffer(string: #"{"model":"m","max_tokens":5,"max_completion_tokens":7}"#)
        #expect(CallSummary(body: both, format: .openAIChat) == CallSummary(model: "m", maxTokens: 7))
        let other = ByteBuffer(string: #"{"model":"m","max_output_tokens":9}"#)
        #expect(CallSummary(body: other, format: .openAIChat) == CallSummary(model: "m", maxTokens: nil))
    }

    @Test func theScanReadsOnlyTopLevelMembersWhateverComesBefore() {
        let body = #"""
            { "messages" : [ {"role":"user","content":"say "model": "evil", {"max_tokens": 1}"},
              {"model": "nested", "max_tokens": 5, "x": [1, [2, {"y": "}"}]]} ],
              "stream": true, "temperature": 0.5, "tools": [], "meta": null,
              "model" : "claude-3-5-sonnet\u0020x", "max_tokens" : 2048.0 }
            """#
        #expect(
            CallSummary(body: ByteBuffer(string: body), format: .anthropicMessages)
                == CallSummary(model: #"claude-3-5-sonnet x"#, maxTokens: 2048))
        #expect(
            CallSummary(body: ByteBuffer(string: #"{"model": 7, "max_tokens": "9"}"#), format: .anthropicMessages)
                == CallSummary(model: "", maxTokens: nil))
        #expect(
            CallSummary(body: ByteBuffer(string: #"{"model": "cut"#), format: .openAIChat)
                == CallSummary(model: "", maxTokens: nil))
        #expect(CallSummary(body: ByteBuffer(string: "[1,2]"), format: .openAIChat) == CallSummary(model: "", maxTokens: nil))
    }
}
