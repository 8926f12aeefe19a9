import LedgerProtocol
import NIOCore
import Testing

@testable import Collector

/// The ingest listener's bounds over real sockets: the small frame limit before WELCOME, the caps on links, the
/// budget of buffered bytes and the idle timeout that only whole frames reset (docs/operations.md, "Ingest link").
@Suite("Ingest link limits over real sockets", .timeLimit(.minutes(1)))
struct IngestLimitsTests {
    static let hello = ProtocolLink.hello(token: nil).encodedFrame()

    /// A call whose request body alone is `bytes` long, far past the pre-WELCOME limit.
    static func largeCall(bytes: Int) -> CapturedCall {
        var call = IngestServerTests.call(7)
        let prefix = #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":""#
        let suffix = #""}]}"#
        call.requestBody = Array((prefix + String(repeating: "x", count: bytes) + suffix).utf8)
        return call
    }

    @Test func aFrameOverTheSmallLimitBeforeHelloIsRefusedAtItsHeader() async throws {
        try await IngestHarness.run { harness in
            // 1 MiB is well under the full limit: only the pre-WELCOME limit refuses it, before any payload arrives.
            let replies = try await harness.rogue(RawLink.header(length: 1 << 20, type: .hello) + [0, 1, 2])
            #expect(replies.map(IngestServerTests.errorCode) == [.frameTooLarge])
            #expect(harness.counters.value(.badFrames) == 1)
        }
    }

    @Test func framesPastTheSmallLimitAreAcceptedAfterWelcome() async throws {
        try await IngestHarness.run { harness in
            let replies = try await harness.withLink { link in
                [
                    try await link.exchange(ProtocolLink.hello(token: nil)),
                    try await link.exchange(.records(Records(batchID: 1, calls: [Self.largeCall(bytes: 300_000)]))),
                ]
            }
            #expect(IngestServerTests.isWelcome(replies[0]))
            #expect(replies[1] == .ack(Ack(batchID: 1, stored: 1, duplicates: 0)))
        }
    }

    @Test func twentyFivePeersSendingHugeFramesBeforeHelloAreClosedWhileASidecarShips() async throws {
        try await IngestHarness.run { harness in
            let good = Task {
                try await harness.withLink { link -> [Message?] in
                    var replies = [try await link.exchange(ProtocolLink.hello(token: nil))]
                    for batch in 1...5 {
                        replies.append(
                            try await link.exchange(
                                .records(Records(batchID: UInt64(batch), calls: [IngestServerTests.call(batch)]))))
                    }
                    return replies
                }
            }
            let rogues = try await withThrowingTaskGroup(of: [Message].self) { group in
                for _ in 0..<25 {
                    // An 80 MiB frame (the full limit) announced, and 256 KiB of it sent.
                    let bytes =
                        RawLink.header(length: WireFormat.defaultMaxFrameBytes, type: .records)
                        + [UInt8](
                            repeating: 0x41, count: 256 << 10)
                    group.addTask { try await harness.rogue(bytes) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(rogues.count == 25)
            for replies in rogues { #expect(replies.map(IngestServerTests.errorCode) == [.frameTooLarge]) }
            let replies = try await good.value
            #expect(IngestServerTests.isWelcome(replies.first ?? nil))
            #expect(
                Array(replies.dropFirst()) == (1...5).map { Message.ack(Ack(batchID: UInt64($0), stored: 1, duplicates: 0)) })
            #expect(await IngestHarness.eventually { harness.buffered.reserved == 0 && harness.links.counts.open == 0 })
        }
    }

    @Test func linksPastTheCapAreToldWhyAndClosed() async throws {
        try await IngestHarness.run(configure: { $0.maxLinks = 2 }) { harness in
            try await harness.withRawLink { first in
                try await first.send(Self.hello)
                #expect(IngestServerTests.isWelcome(try await first.receive()))
                try await harness.withRawLink { second in
                    try await second.send(Self.hello)
                    #expect(IngestServerTests.isWelcome(try await second.receive()))
                    let third = try await harness.rogue(Self.hello)
                    #expect(third.map(IngestServerTests.errorCode) == [.overloaded])
                }
            }
            #expect(harness.counters.value(.ingestLinksOverCap) == 1)
            // Closed links free their places.
            #expect(await IngestHarness.eventually { harness.links.counts.open == 0 })
            let again = try await harness.withLink { link in try await link.exchange(ProtocolLink.hello(token: nil)) }
            #expect(IngestServerTests.isWelcome(again))
        }
    }

    @Test func unauthenticatedLinksPastTheirCapAreRefused() async throws {
        try await IngestHarness.run(configure: { $0.maxUnauthenticatedLinks = 2 }) { harness in
            try await harness.withRawLink { _ in
                try await harness.withRawLink { _ in
                    #expect(await IngestHarness.eventually { harness.links.counts.unauthenticated == 2 })
                    let third = try await harness.rogue(Self.hello)
                    #expect(third.map(IngestServerTests.errorCode) == [.overloaded])
                }
            }
            #expect(harness.counters.value(.ingestUnauthenticatedOverCap) == 1)
            #expect(await IngestHarness.eventually { harness.links.counts.unauthenticated == 0 })
        }
    }

    @Test func aPeerTricklingAFrameIsClosedByTheIdleTimeout() async throws {
        try await IngestHarness.run(configure: { $0.idleTimeout = .seconds(1) }) { harness in
            let started = ContinuousClock.now
            let closed = try await harness.withRawLink { link in
                try await link.send(Self.hello)
                #expect(IngestServerTests.isWelcome(try await link.receive()))
                try await link.send(RawLink.header(length: 1000, type: .records))
                let outbound = link.outbound
                let trickle = Task {
                    // One byte every 200 ms for up to 8 s: each read arrives well within the idle timeout.
                    for _ in 0..<40 {
                        try await Task.sleep(for: .milliseconds(200))
                        try await outbound.write(ByteBuffer(bytes: [0x41]))
                    }
                }
                defer { trickle.cancel() }
                return try await link.receive() == nil
            }
            #expect(closed)
            #expect(ContinuousClock.now - started < .seconds(5))
            #expect(harness.counters.value(.ingestIdleClosed) == 1)
        }
    }

    @Test func unfinishedFramesOfAllLinksStayWithinTheBudget() async throws {
        try await IngestHarness.run(configure: { $0.maxBufferedBytes = 300 << 10 }) { harness in
            let partial = RawLink.header(length: 1 << 20, type: .records) + [UInt8](repeating: 0x41, count: 200 << 10)
            try await harness.withRawLink { first in
                try await first.send(Self.hello)
                #expect(IngestServerTests.isWelcome(try await first.receive()))
                try await first.send(partial)
                #expect(await IngestHarness.eventually { harness.buffered.reserved >= 200 << 10 })
                let refused = try await harness.withRawLink { second in
                    try await second.send(Self.hello)
                    #expect(IngestServerTests.isWelcome(try await second.receive()))
                    try await second.send(partial)
                    return try await second.receive()
                }
                #expect(refused.map(IngestServerTests.errorCode) == .overloaded)
            }
            #expect(harness.counters.value(.ingestBufferExhausted) == 1)
            #expect(await IngestHarness.eventually { harness.buffered.reserved == 0 })
        }
    }
}

@Suite("Link admission")
struct LinkAdmissionTests {
    @Test func capsOpenAndUnauthenticatedLinks() {
        let links = LinkAdmission(maxLinks: 3, maxUnauthenticated: 2)
        #expect(links.admit() == nil)
        #expect(links.admit() == nil)
        #expect(links.admit() == .tooManyUnauthenticated(2))
        links.authenticated()
        #expect(links.admit() == nil)
        #expect(links.admit() == .tooManyLinks(3))
        #expect(links.counts == (3, 2))
        links.closed(authenticated: true)
        links.closed(authenticated: false)
        #expect(links.counts == (1, 1))
    }
}
