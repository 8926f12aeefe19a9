import LedgerProtocol
import Testing

@testable import Collector

@Suite struct IngestSessionTests {
    func hello(token: String? = nil, version: UInt16 = UInt16(WireFormat.version)) -> Message {
        .hello(Hello(protocolVersion: version, source: "pod-1", ingestToken: token, softwareVersion: "test"))
    }

    func refusalCode(_ action: IngestSession.Action) -> ErrorMessage.Code? {
        if case .refuse(let error) = action { return error.code }
        return nil
    }

    @Test func helloIsWelcomed() {
        var session = IngestSession(requiredToken: nil, collectorID: "c1", maxFrameBytes: 1024)
        #expect(session.received(hello()) == .reply(.welcome(Welcome(collectorID: "c1", maxFrameBytes: 1024))))
        #expect(session.state == .ready(source: "pod-1", version: 1))
    }

    @Test func aRequiredTokenMustMatch() {
        var wrong = IngestSession(requiredToken: "s3cret", collectorID: "c", maxFrameBytes: 1024)
        #expect(refusalCode(wrong.received(hello(token: "s3cre"))) == .unauthorized)
        #expect(wrong.state == .closed)
        var missing = IngestSession(requiredToken: "s3cret", collectorID: "c", maxFrameBytes: 1024)
        #expect(refusalCode(missing.received(hello())) == .unauthorized)
        var right = IngestSession(requiredToken: "s3cret", collectorID: "c", maxFrameBytes: 1024)
        #expect(refusalCode(right.received(hello(token: "s3cret"))) == nil)
    }

    @Test func versionZeroIsRefused() {
        var session = IngestSession(requiredToken: nil, collectorID: "c", maxFrameBytes: 1024)
        #expect(refusalCode(session.received(hello(version: 0))) == .unsupportedVersion)
    }

    /// HELLO names the highest version the sidecar speaks; WELCOME answers with the lower of it and the collector's.
    @Test func theLinkSpeaksTheLowerOfBothVersions() {
        for (offered, chosen) in [(1, 1), (2, 2), (7, UInt16(WireFormat.latestVersion))] as [(UInt16, UInt16)] {
            var session = IngestSession(requiredToken: nil, collectorID: "c", maxFrameBytes: 1024)
            #expect(
                session.received(hello(version: offered))
                    == .reply(.welcome(Welcome(protocolVersion: chosen, collectorID: "c", maxFrameBytes: 1024))))
            #expect(session.state == .ready(source: "pod-1", version: chosen))
        }
    }

    /// STATUS is version 2's: on a version-1 link it is refused, on a version-2 link handed on.
    @Test func statusNeedsAVersionTwoLink() {
        let status = SidecarStatus([.captured: 3, .sentAtMicros: 10])
        var one = IngestSession(requiredToken: nil, collectorID: "c", maxFrameBytes: 1024)
        _ = one.received(hello(version: 1))
        #expect(refusalCode(one.received(.status(status))) == .unexpectedMessage)
        var two = IngestSession(requiredToken: nil, collectorID: "c", maxFrameBytes: 1024)
        _ = two.received(hello(version: 2))
        #expect(two.received(.status(status)) == .status(status))
        var early = IngestSession(requiredToken: nil, collectorID: "c", maxFrameBytes: 1024)
        #expect(refusalCode(early.received(.status(status))) == .unexpectedMessage)
    }

    @Test func recordsBeforeHelloAreRefused() {
        var session = IngestSession(requiredToken: nil, collectorID: "c", maxFrameBytes: 1024)
        #expect(refusalCode(session.received(.records(Records(batchID: 1, calls: [])))) == .unexpectedMessage)
        #expect(session.received(hello()) == .none, "a closed session ignores everything")
    }

    @Test func readySessionsCommitAndAnswerPings() {
        var session = IngestSession(requiredToken: nil, collectorID: "c", maxFrameBytes: 1024)
        _ = session.received(hello())
        let records = Records(batchID: 7, calls: [])
        #expect(session.received(.records(records)) == .commit(records))
        #expect(session.received(.ping(nonce: 9)) == .reply(.pong(nonce: 9)))
        #expect(refusalCode(session.received(hello())) == .unexpectedMessage)
    }

    /// ADMITs of an authenticated link are answered by `AdmissionHandler`; one that reaches the session was sent
    /// before the sidecar could have read WELCOME.
    @Test func anAdmitReachingTheSessionIsRefused() {
        var session = IngestSession(requiredToken: nil, collectorID: "c", maxFrameBytes: 1024)
        let admit = Admit(requestID: 3, actionID: "a", model: "gpt-4o", bodyBytes: 10)
        #expect(refusalCode(session.received(.admit(admit))) == .unexpectedMessage, "before HELLO")
        var ready = IngestSession(requiredToken: nil, collectorID: "c", maxFrameBytes: 1024)
        _ = ready.received(hello())
        #expect(refusalCode(ready.received(.admit(admit))) == .unexpectedMessage, "after HELLO, before WELCOME was read")
    }

    @Test func welcomeTellsSidecarsWhetherToAskBeforeEachCall() {
        var enforcing = IngestSession(requiredToken: nil, collectorID: "c", maxFrameBytes: 1024, admissionRequired: true)
        #expect(
            enforcing.received(hello())
                == .reply(.welcome(Welcome(collectorID: "c", maxFrameBytes: 1024, admissionRequired: true))))
    }

    @Test func decodingFailuresMapToCodes() {
        var a = IngestSession(requiredToken: nil, collectorID: "c", maxFrameBytes: 1024)
        #expect(refusalCode(a.decodingFailed(.oversized(length: 5000, limit: 1024))) == .frameTooLarge)
        var b = IngestSession(requiredToken: nil, collectorID: "c", maxFrameBytes: 1024)
        #expect(refusalCode(b.decodingFailed(.unknownType(0x7f))) == .malformedFrame)
        var c = IngestSession(requiredToken: nil, collectorID: "c", maxFrameBytes: 1024)
        #expect(refusalCode(c.decodingFailed(.unsupportedVersion(9))) == .unsupportedVersion)
    }

    @Test func constantTimeEquality() {
        #expect(IngestSession.constantTimeEquals("abc", "abc"))
        #expect(!IngestSession.constantTimeEquals("abc", "abd"))
        #expect(!IngestSession.constantTimeEquals("abc", "abcd"))
        #expect(!IngestSession.constantTimeEquals("", "a"))
        #expect(IngestSession.constantTimeEquals("", ""))
    }
}
