import LedgerProtocol
import Testing

@testable import Collector

/// Per-sidecar tokens (`AGENTLEDGER_INGEST_TOKENS_FILE`): parsing, and which HELLOs they admit.
@Suite("Ingest tokens file")
struct IngestTokensTests {
    @Test func linesBindTokensToSourcesAndCommentsAreIgnored() throws {
        let table = try IngestTokens.parse("# fleet\n\npod-a  tok-a\npod-b\ttok-b # billing\n")
        #expect(table == ["pod-a": "tok-a", "pod-b": "tok-b"])
    }

    @Test(arguments: ["pod-a\n", "pod-a tok extra\n", "pod-a t1\npod-a t2\n"])
    func malformedFilesAreRefusedWithTheirLine(text: String) {
        #expect(throws: IngestTokens.FileError.self) { try IngestTokens.parse(text) }
    }

    static func hello(_ source: String, _ token: String?) -> Message {
        .hello(Hello(source: source, ingestToken: token, softwareVersion: "test"))
    }

    static func isWelcome(_ action: IngestSession.Action) -> Bool {
        if case .reply(.welcome) = action { true } else { false }
    }

    @Test func aSidecarMustPresentTheTokenOfTheSourceItNames() {
        let tokens = IngestTokens(["pod-a": "tok-a", "pod-b": "tok-b"])
        func session() -> IngestSession {
            IngestSession(requiredToken: nil, tokens: tokens, collectorID: "c", maxFrameBytes: 1024)
        }
        var right = session()
        #expect(Self.isWelcome(right.received(Self.hello("pod-a", "tok-a"))))
        #expect(right.state == .ready(source: "pod-a", version: UInt16(WireFormat.latestVersion)))
        for (source, token) in [("pod-a", "tok-b"), ("pod-c", "tok-a"), ("pod-a", nil)] as [(String, String?)] {
            var wrong = session()
            guard case .refuse(let error) = wrong.received(Self.hello(source, token)) else {
                Issue.record("\(source) with \(String(describing: token)) was not refused")
                continue
            }
            #expect(error.code == .unauthorized)
            #expect(!error.message.contains("tok-"))
        }
    }

    @Test func theSharedTokenAndTheFileEachProveALink() {
        let tokens = IngestTokens(["pod-a": "tok-a"])
        var shared = IngestSession(requiredToken: "fleet", tokens: tokens, collectorID: "c", maxFrameBytes: 1024)
        #expect(Self.isWelcome(shared.received(Self.hello("any-pod", "fleet"))))
        var bound = IngestSession(requiredToken: "fleet", tokens: tokens, collectorID: "c", maxFrameBytes: 1024)
        #expect(Self.isWelcome(bound.received(Self.hello("pod-a", "tok-a"))))
        var neither = IngestSession(requiredToken: "fleet", tokens: tokens, collectorID: "c", maxFrameBytes: 1024)
        #expect(!Self.isWelcome(neither.received(Self.hello("pod-b", "tok-a"))))
    }
}
