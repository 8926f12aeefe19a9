import LedgerProtocol
import Testing

@testable import Collector

/// The ingest listener on a real socket: handshake, idempotent batches, refusals and rogue peers.
@Suite("Ingest server over real sockets", .timeLimit(.minutes(1)))
struct IngestServerTests {
    static func call(_ index: Int) -> CapturedCall {
        CapturedCall(
            actionID: "0193a5b0-0000-7000-8000-00000000000\(index)", arrivedAtMicros: 1_790_000_000_000_000 + Int64(index),
            method: "POST", path: "/v1/chat/completions", source: "test-sidecar",
            metadata: CallMetadata(sessionID: "ingest-session", agentName: "planner"),
            requestHeaders: [HeaderField("content-type", "application/json")],
            requestBody: Array(#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi \#(index)"}]}"#.utf8),
            statusCode: 200, responseHeaders: [HeaderField("content-type", "application/json")],
            responseBody: Array(
                #"{"id":"c\#(index)","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"hello"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}"#
                    .utf8),
            firstByteMicros: 1_000, completedMicros: 2_000)
    }

    static let batch = [call(1), call(2), call(3)]

    @Test func batchesAreStoredOnceAndAcknowledged() async throws {
        try await IngestHarness.run(token: "secret") { harness in
            let (welcome, first, again) = try await harness.withLink { link in
                let welcome = try await link.exchange(ProtocolLink.hello())
                let first = try await link.exchange(.records(Records(batchID: 1, calls: Self.batch)))
                let again = try await link.exchange(.records(Records(batchID: 2, calls: Self.batch)))
                return (welcome, first, again)
            }
            guard case .welcome(let accepted) = welcome else {
                Issue.record("expected WELCOME, got \(String(describing: welcome))")
                return
            }
            #expect(accepted.collectorID == "test-collector")
            #expect(accepted.protocolVersion == UInt16(WireFormat.version))
            #expect(first == .ack(Ack(batchID: 1, stored: 3, duplicates: 0)))
            #expect(again == .ack(Ack(batchID: 2, stored: 0, duplicates: 3)))

            let stored = try await harness.store.calls(inSession: "ingest-session")
            #expect(stored.count == 3)
            for call in Self.batch { #expect(try await harness.store.call(actionID: call.actionID) != nil) }
            #expect(harness.counters.value(.sidecarsConnected) == 1)
            #expect(harness.counters.value(.recordsStored) == 3)
            #expect(harness.counters.value(.recordsDuplicate) == 3)
        }
    }

    @Test(arguments: [nil, "wrong"] as [String?])
    func helloWithoutTheRightTokenIsRefused(token: String?) async throws {
        try await IngestHarness.run(token: "secret") { harness in
            let (reply, after) = try await harness.withLink { link in
                (try await link.exchange(ProtocolLink.hello(token: token)), try await link.receive())
            }
            guard case .error(let error) = reply else {
                Issue.record("expected ERROR, got \(String(describing: reply))")
                return
            }
            #expect(error.code == .unauthorized)
            #expect(after == nil, "the link stays open after a refusal")
            #expect(harness.counters.value(.sidecarsRefused) == 1)
            #expect(harness.counters.value(.sidecarsConnected) == 0)
        }
    }

    @Test func helloWithProtocolVersionZeroIsRefused() async throws {
        try await IngestHarness.run { harness in
            let (reply, after) = try await harness.withLink { link in
                (try await link.exchange(ProtocolLink.hello(token: nil, version: 0)), try await link.receive())
            }
            guard case .error(let error) = reply else {
                Issue.record("expected ERROR, got \(String(describing: reply))")
                return
            }
            #expect(error.code == .unsupportedVersion)
            #expect(after == nil)
            #expect(harness.counters.value(.sidecarsRefused) == 1)
        }
    }

    @Test func recordsBeforeHelloAreRefused() async throws {
        try await IngestHarness.run { harness in
            let (reply, after) = try await harness.withLink { link in
                (try await link.exchange(.records(Records(batchID: 1, calls: Self.batch))), try await link.receive())
            }
            guard case .error(let error) = reply else {
                Issue.record("expected ERROR, got \(String(describing: reply))")
                return
            }
            #expect(error.code == .unexpectedMessage)
            #expect(after == nil)
            #expect(try await harness.store.calls(inSession: "ingest-session").isEmpty)
        }
    }

    @Test func pingIsAnsweredWithPong() async throws {
        try await IngestHarness.run { harness in
            let (welcome, pong) = try await harness.withLink { link in
                (try await link.exchange(ProtocolLink.hello(token: nil)), try await link.exchange(.ping(nonce: 0xFEED_BEEF)))
            }
            #expect(Self.isWelcome(welcome), "expected WELCOME, got \(String(describing: welcome))")
            #expect(pong == .pong(nonce: 0xFEED_BEEF))
        }
    }

    @Test func admitsSentTogetherGetTheirVerdictsInOrderAfterWelcome() async throws {
        var policy = EnforcementPolicy()
        policy.dailyBudget = 0.05
        policy.admissionMode = .strict  // room for exactly four worst cases
        try await IngestHarness.run(policy: policy) { harness in
            let (welcome, verdicts) = try await harness.withLink { link in
                let welcome = try await link.exchange(ProtocolLink.hello(token: nil))
                // 400 body bytes and 1,000 output tokens of gpt-4o reserve $0.01025: the fifth call no longer fits.
                let admits = (1...6).map { index in
                    Message.admit(
                        Admit(
                            requestID: UInt64(index), actionID: "act-\(index)", sessionID: nil, model: "gpt-4o", bodyBytes: 400,
                            maxTokens: 1000))
                }
                try await link.outbound.write(contentsOf: admits)
                var verdicts: [Verdict] = []
                while verdicts.count < admits.count, case .verdict(let verdict)? = try await link.receive() {
                    verdicts.append(verdict)
                }
                return (welcome, verdicts)
            }
            guard case .welcome(let hello)? = welcome else {
                Issue.record("expected WELCOME, got \(String(describing: welcome))")
                return
            }
            #expect(hello.admissionRequired)
            #expect(verdicts.map(\.requestID) == [1, 2, 3, 4, 5, 6])
            #expect(verdicts.map(\.decision) == [.admit, .admit, .admit, .admit, .refuse, .refuse])
            #expect(verdicts[4].refusalType == "budget_exceeded")
        }
    }

    /// A session's lifetime spend not yet in memory is read from the store first; its VERDICT comes back on the link
    /// after VERDICTs decided at once.
    @Test func anAdmitThatMustReadTheStoreIsAnsweredOnTheSameLink() async throws {
        var policy = EnforcementPolicy()
        policy.sessionBudget = 1.0
        try await IngestHarness.run(policy: policy) { harness in
            // A stored gpt-4o call of 1,000,000 input tokens: $2.50 spent, over the $1 budget.
            let spent = CapturedCallFixture.call(
                request: #"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#,
                response: #"{"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":1000000,"completion_tokens":0}}"#,
                metadata: CallMetadata(sessionID: "s-spent"))
            _ = try await harness.store.insert([CapturedCallFixture.record(spent)])
            let verdicts = try await harness.withLink { link in
                _ = try await link.exchange(ProtocolLink.hello(token: nil))
                try await link.outbound.write(
                    contentsOf: ["s-spent", "s-new"].enumerated().map { index, session in
                        Message.admit(
                            Admit(
                                requestID: UInt64(index + 1), actionID: "act-\(session)", sessionID: session, model: "gpt-4o",
                                bodyBytes: 40, maxTokens: 10))
                    })
                var verdicts: [UInt64: Verdict] = [:]
                while verdicts.count < 2, case .verdict(let verdict)? = try await link.receive() {
                    verdicts[verdict.requestID] = verdict
                }
                return verdicts
            }
            #expect(verdicts[1]?.decision == .refuse)
            #expect(verdicts[1]?.refusalType == "budget_exceeded")
            #expect(verdicts[2]?.decision == .admit)
        }
    }

    @Test func withoutAnEnforcerEveryAdmitIsAdmitted() async throws {
        try await IngestHarness.run { harness in
            let (welcome, verdict) = try await harness.withLink { link in
                let welcome = try await link.exchange(ProtocolLink.hello(token: nil))
                let verdict = try await link.exchange(
                    .admit(Admit(requestID: 9, actionID: "a", model: "gpt-4o", bodyBytes: 10)))
                return (welcome, verdict)
            }
            guard case .welcome(let hello)? = welcome else {
                Issue.record("expected WELCOME, got \(String(describing: welcome))")
                return
            }
            #expect(!hello.admissionRequired)
            #expect(verdict == .verdict(Verdict(requestID: 9, decision: .admit)))
        }
    }

    /// A sidecar sends ADMIT only after reading WELCOME; one sent with its HELLO breaks the protocol.
    @Test func anAdmitSentWithHelloIsRefused() async throws {
        var policy = EnforcementPolicy()
        policy.dailyBudget = 5
        try await IngestHarness.run(policy: policy) { harness in
            let replies = try await harness.withLink { link in
                try await link.outbound.write(
                    contentsOf: [
                        ProtocolLink.hello(token: nil),
                        .admit(Admit(requestID: 1, actionID: "a", model: "gpt-4o", bodyBytes: 10)),
                    ])
                var replies: [Message] = []
                while replies.count < 2, let message = try await link.receive() { replies.append(message) }
                return replies
            }
            #expect(replies.count == 2)
            guard replies.count == 2, case .error(let error) = replies[1] else {
                Issue.record("expected WELCOME then ERROR, got \(replies)")
                return
            }
            #expect(error.code == .unexpectedMessage)
            #expect(error.message == "ADMIT before WELCOME")
        }
    }

    @Test func roguePeersAreCutOffWhileAGoodSidecarKeepsItsAcks() async throws {
        try await IngestHarness.run { harness in
            let good = Task {
                try await harness.withLink { link -> [Message?] in
                    var replies = [try await link.exchange(ProtocolLink.hello(token: nil))]
                    for batch in 1...5 {
                        replies.append(
                            try await link.exchange(.records(Records(batchID: UInt64(batch), calls: [Self.call(batch)]))))
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    return replies
                }
            }

            let http = try await harness.rogue(Array("GET / HTTP/1.1\r\nHost: collector\r\n\r\n".utf8))
            #expect(http.map(Self.errorCode) == [.frameTooLarge])
            let huge = try await harness.rogue([
                0x40, 0x00, 0x00, 0x00, WireFormat.version, MessageType.records.rawValue, 1, 2, 3,
            ])
            #expect(huge.map(Self.errorCode) == [.frameTooLarge])
            let badVersion = try await harness.rogue([0x00, 0x00, 0x00, 0x02, 0x7F, MessageType.ping.rawValue])
            #expect(badVersion.map(Self.errorCode) == [.unsupportedVersion])
            let badPayload = try await harness.rogue([
                0x00, 0x00, 0x00, 0x05, WireFormat.version, MessageType.hello.rawValue, 0xFF, 0xFF, 0xFF,
            ])
            #expect(badPayload.map(Self.errorCode) == [.malformedFrame])
            let half = try await harness.rogue(
                [0x00, 0x00, 0x01, 0x00, WireFormat.version, MessageType.records.rawValue, 0, 0], halfClose: true)
            #expect(half.allSatisfy { Self.errorCode($0) == .malformedFrame }, "unexpected frames \(half)")

            let replies = try await good.value
            #expect(Self.isWelcome(replies.first ?? nil), "good sidecar got \(String(describing: replies.first))")
            #expect(Array(replies.dropFirst()) == (1...5).map { Message.ack(Ack(batchID: UInt64($0), stored: 1, duplicates: 0)) })
            #expect(await IngestHarness.eventually { harness.counters.value(.badFrames) == 5 })
            #expect(harness.counters.value(.badFrames) == 5)
            #expect(try await harness.store.calls(inSession: "ingest-session").count == 5)
        }
    }

    static func isWelcome(_ message: Message?) -> Bool {
        if case .welcome = message { true } else { false }
    }

    static func errorCode(_ message: Message) -> ErrorMessage.Code? {
        if case .error(let error) = message { error.code } else { nil }
    }
}
