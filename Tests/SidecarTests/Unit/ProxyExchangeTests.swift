import LedgerAdmission
import LedgerProtocol
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

@testable import Sidecar

/// The races of an agent connection's exchanges, played on `ProxyExchange` without sockets: each test feeds events
/// in the order a race would deliver them and reads the actions back as short words (`said`).
@Suite struct ProxyExchangeTests {
    /// Stands for an upstream connection: the exchange only hands it back.
    final class Upstream {}
    typealias Exchange = ProxyExchange<Upstream>

    let bodies = AgentLoad(maxConnections: 8, maxBufferedBytes: 1000)
    var exchange: Exchange

    init() {
        exchange = Exchange(
            settings: ProxyExchangeSettings(
                maxBodyBytes: 800, maxCapturedResponseBytes: 1 << 20, source: "test", upstreamOrigin: "http://up:80",
                upstreamHeadTimeout: .seconds(600), requestBodyTimeout: .seconds(30), upstreamStallTimeout: .seconds(10),
                refuseWhenCollectorDown: false, bodies: bodies))
    }

    // MARK: Late callbacks

    @Test mutating func aConnectionThatArrivesAfterTheAgentLeftIsClosed() throws {
        let first = try #require(exchange.requestHead(Self.upload, version: .http1_1, keepAlive: true, now: at(0)).timer)
        #expect(said(exchange.channelInactive()) == "stop")
        let late = Upstream()
        let action = exchange.upstreamConnected(late, for: first.exchange)
        #expect(said(action) == "abandon upstream")
        #expect(action.upstream === late)
        #expect(said(exchange.upstreamConnectFailed(UpstreamFailure("refused"), for: first.exchange)) == "none")
        #expect(said(exchange.upstreamTimerFired(for: first.exchange, now: at(600))) == "none")
    }

    @Test mutating func everyUpstreamEventAfterTheAgentLeftIsDroppedAndTheCallRecordedAsItsDisconnect() throws {
        let upstream = try connectCapturedCall()
        _ = exchange.upstreamHead(Self.ok, now: at(1))
        _ = exchange.upstreamBodyPart(ByteBuffer(string: "{\"a\""), now: at(1))
        let stop = exchange.channelInactive()
        #expect(said(stop) == "stop, record clientDisconnected, abandoning upstream")
        #expect(stop.upstream === upstream)
        #expect(said(exchange.upstreamBodyPart(ByteBuffer(string: "1}"), now: at(2))) == "none")
        #expect(said(exchange.upstreamEnded()) == "none")
        #expect(said(exchange.upstreamFailed(UpstreamFailure("closed"))) == "none")
        #expect(said(exchange.agentWritabilityChanged(false)) == "none")
    }

    @Test mutating func aVerdictAfterTheAgentLeftIsDropped() throws {
        let ask = try #require(sendCapturedCall(admissionRequired: true).admission)
        #expect(said(exchange.channelInactive()) == "stop, record clientDisconnected")
        #expect(said(exchange.verdict(.admitted, for: ask.exchange, now: at(1))) == "none")
    }

    @Test mutating func aRefusalIsAnswered429AndAVerdictForAnEarlierCallIsDroppedOnTheNextOne() throws {
        let first = try #require(sendCapturedCall(admissionRequired: true, session: "run-1").admission)
        let verdict = Verdict(requestID: 1, decision: .refuse, refusalType: "rate_limit_exceeded", retryAfterSeconds: 3)
        let refused = exchange.verdict(.refused(verdict), for: first.exchange, now: at(1))
        #expect(said(refused) == "answer 429, record refused, refusedByCollector")
        let answer = try #require(refused.answer)
        #expect(answer.head.headers["retry-after"] == ["3"])
        #expect(answer.head.headers["x-agentledger-action-id"] == [first.call.actionID])
        #expect(answer.head.headers["x-agentledger-session-id"] == ["run-1"])
        #expect(answer.record?.statusCode == 429)

        let second = try #require(sendCapturedCall(admissionRequired: true).admission)
        #expect(second.exchange != first.exchange)
        #expect(said(exchange.verdict(.admitted, for: first.exchange, now: at(2))) == "none")
        #expect(said(exchange.verdict(.admitted, for: second.exchange, now: at(2))) == "acquire upstream")
    }

    @Test mutating func noVerdictForwardsOrRefusesAsTheSettingsSay() throws {
        let open = try #require(sendCapturedCall(admissionRequired: true).admission)
        let forwarded = exchange.verdict(.unavailable("link lost"), for: open.exchange, now: at(1))
        #expect(said(forwarded) == "acquire upstream, admissionUnavailable")

        var closed = Exchange(settings: exchange.settings.with { $0.refuseWhenCollectorDown = true })
        swap(&closed, &exchange)
        let refused = try #require(sendCapturedCall(admissionRequired: true).admission)
        let answer = exchange.verdict(.unavailable("link lost"), for: refused.exchange, now: at(1))
        #expect(said(answer) == "answer 503, admissionUnavailable refusing", "the record is not shipped")
        #expect(answer.answer?.head.headers["x-agentledger-action-id"] == [])
    }

    // MARK: Upstream failures

    @Test mutating func anUpstreamThatFailsBeforeItsHeadGets502AndARecordAndTheNextRequestGoesOn() throws {
        _ = try connectCapturedCall()
        let failed = exchange.upstreamFailed(UpstreamFailure("the upstream closed the connection"))
        #expect(said(failed) == "answer 502, record upstreamUnreachable, upstreamUnreachable")
        let record = try #require(failed.answer?.record)
        #expect(record.outcomeDetail == "upstream http://up:80 gave no response: the upstream closed the connection")
        #expect(record.statusCode == nil)
        #expect(said(exchange.requestHead(Self.upload, version: .http1_1, keepAlive: true, now: at(2))) == "acquire upstream")
    }

    @Test mutating func aConnectionThatCannotBeMadeGets502NamingTheUpstream() throws {
        let acquire = try #require(exchange.requestHead(Self.get, version: .http1_1, keepAlive: true, now: at(0)).timer)
        _ = exchange.requestEnded(admissionRequired: false, now: at(0))
        let failed = exchange.upstreamConnectFailed(UpstreamFailure("connection refused"), for: acquire.exchange)
        #expect(said(failed) == "answer 502, upstreamUnreachable")
        #expect(failed.answer?.body.text.contains("could not connect to upstream http://up:80: connection refused") == true)
    }

    @Test mutating func anUpstreamThatFailsMidStreamCutsTheAgentConnection() throws {
        let upstream = try connectCapturedCall()
        #expect(said(exchange.upstreamHead(Self.ok, now: at(1))) == "write head 200, timer at 11 s")
        #expect(said(exchange.upstreamBodyPart(ByteBuffer(string: "{\"a\""), now: at(2))) == "write 4 bytes")
        let cut = exchange.upstreamFailed(UpstreamFailure("connection reset"))
        #expect(said(cut) == "cut, record upstreamFailed")
        #expect(cut.record?.statusCode == 200)
        #expect(cut.record?.responseBody == Array("{\"a\"".utf8))
        #expect(cut.record?.outcomeDetail == "upstream http://up:80 failed mid-response: connection reset")
        #expect(said(exchange.upstreamEnded()) == "none")
        #expect(said(exchange.agentWritabilityChanged(false)) == "none", "\(upstream) is gone")
        #expect(said(exchange.channelInactive()) == "stop", "shipped once")
    }

    // MARK: The upstream timer

    @Test mutating func theHeadTimeoutWithoutAConnectionGets502AndTheLateConnectionIsClosed() throws {
        let first = try #require(exchange.requestHead(Self.get, version: .http1_1, keepAlive: true, now: at(0)).timer)
        #expect(first.deadline == at(600))
        _ = exchange.requestEnded(admissionRequired: false, now: at(0))
        let timedOut = exchange.upstreamTimerFired(for: first.exchange, now: at(600))
        #expect(said(timedOut) == "answer 502, upstreamUnreachable")
        #expect(
            timedOut.answer?.body.text.contains("could not connect to upstream http://up:80: no connection within 600 s") == true)

        let next = try #require(exchange.requestHead(Self.get, version: .http1_1, keepAlive: true, now: at(601)).timer)
        let late = Upstream()
        #expect(exchange.upstreamConnected(late, for: first.exchange).upstream === late, "closed, not given the next call")
        #expect(said(exchange.upstreamConnected(Upstream(), for: next.exchange)) == "send 1 parts")
    }

    @Test mutating func theHeadTimeoutOnAConnectionFailsItAndThe502SaysSo() throws {
        let upstream = try connectCapturedCall()
        let timedOut = exchange.upstreamTimerFired(for: exchange.id, now: at(600))
        #expect(said(timedOut) == "fail upstream: no response within 600 s")
        #expect(timedOut.upstream === upstream)
        let failed = exchange.upstreamFailed(UpstreamFailure("no response within 600 s"))
        #expect(failed.answer?.record?.outcomeDetail == "upstream http://up:80 gave no response: no response within 600 s")
    }

    @Test mutating func aHeadThatArrivesFirstTurnsTheTimerIntoTheStallWatch() throws {
        _ = try connectCapturedCall()
        #expect(said(exchange.upstreamHead(Self.ok, now: at(595))) == "write head 200, timer at 605 s")
        // Had the head timer fired after all, it only moves the stall watch on.
        #expect(said(exchange.upstreamTimerFired(for: exchange.id, now: at(600))) == "timer at 605 s")
        #expect(said(exchange.upstreamHead(Self.ok, now: at(601))) == "none", "one head per response")
    }

    @Test mutating func aStreamSilentForTheStallTimeoutIsCutButAPauseOfTheAgentIsNot() throws {
        let upstream = try connectCapturedCall()
        _ = exchange.upstreamHead(Self.ok, now: at(0))
        _ = exchange.upstreamBodyPart(ByteBuffer(string: "data: 1\n\n"), now: at(1))
        #expect(said(exchange.upstreamTimerFired(for: exchange.id, now: at(10))) == "timer at 11 s")
        #expect(said(exchange.agentWritabilityChanged(false)) == "pause upstream")
        #expect(said(exchange.upstreamTimerFired(for: exchange.id, now: at(11))) == "timer at 21 s", "the agent's pause")
        #expect(exchange.agentWritabilityChanged(true).upstream === upstream)
        let stalled = exchange.upstreamTimerFired(for: exchange.id, now: at(21))
        #expect(said(stalled) == "fail upstream: no bytes of the response for 10 s")
        #expect(
            said(exchange.upstreamFailed(UpstreamFailure("no bytes of the response for 10 s"))) == "cut, record upstreamFailed")
    }

    // MARK: The agent's body

    @Test mutating func aBodyStallWhileReadsAreHeldForASlowUpstreamIsNotTheAgents() throws {
        _ = exchange.requestHead(Self.upload, version: .http1_1, keepAlive: true, now: at(0))
        #expect(said(exchange.readRequested()) == "none", "no upstream to take the body yet")
        #expect(said(exchange.requestBodyStalled()) == "restart body deadline")
        let upstream = Upstream()
        #expect(said(exchange.upstreamConnected(upstream, for: exchange.id)) == "send 1 parts")
        #expect(said(exchange.upstreamWritabilityChanged(false)) == "none")
        #expect(said(exchange.requestBodyStalled()) == "restart body deadline")
        #expect(said(exchange.upstreamWritabilityChanged(true)) == "read")
        #expect(said(exchange.requestBodyPart(ByteBuffer(string: "abc"))) == "write body")
        #expect(said(exchange.requestReadComplete()) == "flush upstream")
        #expect(said(exchange.readRequested()) == "read")
        let stalled = exchange.requestBodyStalled()
        #expect(said(stalled) == "answer 408, closing, abandoning upstream, requestBodyStalled")
        #expect(stalled.upstream === upstream)
        #expect(stalled.answer?.head.headers["connection"] == ["close"])
    }

    @Test mutating func anUploadAnsweredEarlyIsReadToItsEndAndDroppedThenTheNextRequestGoesOn() throws {
        _ = exchange.requestHead(Self.upload, version: .http1_1, keepAlive: true, now: at(0))
        let upstream = Upstream()
        _ = exchange.upstreamConnected(upstream, for: exchange.id)
        #expect(said(exchange.readRequested()) == "none")
        #expect(said(exchange.upstreamHead(Self.ok, now: at(1))) == "write head 200, timer at 11 s")
        #expect(said(exchange.upstreamBodyPart(ByteBuffer(string: "{}"), now: at(1))) == "write 2 bytes")
        let finished = exchange.upstreamEnded()
        #expect(said(finished) == "finish, reading")
        #expect(finished.upstream === upstream)
        #expect(said(exchange.requestBodyPart(ByteBuffer(string: "rest"))) == "none")
        #expect(said(exchange.readRequested()) == "read")
        #expect(said(exchange.requestEnded(admissionRequired: false, now: at(2))) == "none")
        #expect(said(exchange.requestHead(Self.get, version: .http1_1, keepAlive: true, now: at(3))) == "acquire upstream")
    }

    @Test mutating func theAgentsBodyStallingAfterAnEarlyAnswerClosesTheConnection() {
        _ = exchange.requestHead(Self.upload, version: .http1_1, keepAlive: true, now: at(0))
        _ = exchange.upstreamConnected(Upstream(), for: exchange.id)
        _ = exchange.upstreamWritabilityChanged(true)
        _ = exchange.upstreamHead(Self.ok, now: at(1))
        _ = exchange.upstreamEnded()
        #expect(said(exchange.requestBodyStalled()) == "close, requestBodyStalled")
    }

    @Test mutating func aCapturedBodyIsBoundedByTheLimitAndBySharedMemory() throws {
        _ = exchange.requestHead(Self.captured(), version: .http1_1, keepAlive: true, now: at(0))
        #expect(said(exchange.requestBodyPart(ByteBuffer(repeating: 0x61, count: 500))) == "none")
        #expect(bodies.bufferedBytes > 0)
        let tooLarge = exchange.requestBodyPart(ByteBuffer(repeating: 0x61, count: 400))
        #expect(said(tooLarge) == "answer 413, bodyTooLarge")
        #expect(bodies.bufferedBytes == 0)
        #expect(said(exchange.requestEnded(admissionRequired: false, now: at(1))) == "none")

        #expect(bodies.reserveBody(600))
        let full = exchange.requestHead(Self.captured(declaring: 500), version: .http1_1, keepAlive: true, now: at(2))
        #expect(said(full) == "answer 503, closing, bodyBufferFull")
        bodies.releaseBody(600)
        _ = exchange.requestHead(Self.captured(declaring: 500), version: .http1_1, keepAlive: true, now: at(3))
        #expect(bodies.bufferedBytes == 500)
        #expect(said(exchange.channelInactive()) == "stop")
        #expect(bodies.bufferedBytes == 0)
    }

    @Test mutating func aCapturedBodyGrowsInPlaceNotCopiedForEachChunk() throws {
        _ = exchange.requestHead(Self.captured(declaring: 600), version: .http1_1, keepAlive: true, now: at(0))
        _ = exchange.requestBodyPart(ByteBuffer(repeating: 0x61, count: 100))
        let storage = try #require(collectedBodyAddress())
        for chunk in 2...6 {
            _ = exchange.requestBodyPart(ByteBuffer(repeating: 0x61, count: 100))
            #expect(collectedBodyAddress() == storage, "chunk \(chunk) copied the body")
        }
    }

    @Test mutating func aConnectionArrivingWhileTheAgentCannotReadStartsPaused() {
        _ = exchange.requestHead(Self.get, version: .http1_1, keepAlive: true, now: at(0))
        _ = exchange.agentWritabilityChanged(false)
        #expect(said(exchange.upstreamConnected(Upstream(), for: exchange.id)) == "send 1 parts, paused")
    }

    @Test mutating func aWebSocketHandshakeAnsweredWithoutASwitchClosesAndALateSwitchIsRefused() {
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/api/live", headers: ["upgrade": "websocket"])
        #expect(said(exchange.requestHead(.tunnel(head), version: .http1_1, keepAlive: true, now: at(0))) == "open tunnel")
        #expect(said(exchange.tunnelRefused(status: .notFound)) == "answer 404, closing")
        let switched = exchange.tunnelSwitched()
        #expect(!switched, "the exchange is over: the backend is closed")
    }

    @Test func aVerdictComesBackOnTheEventLoopThatAskedForIt() async throws {
        // Generous: the test is about where the verdict lands, not how fast (a busy machine's loops can lag seconds).
        let client = AdmissionClient(timeout: .seconds(60))
        let connectionLoop = MultiThreadedEventLoopGroup.singleton.next()
        var writes = AdmissionClientTests.link(client, on: MultiThreadedEventLoopGroup.singleton.next())
            .makeAsyncIterator()
        client.welcomed(admissionRequired: true)
        let answered = connectionLoop.makePromise(of: AdmissionClient.Outcome.self)
        connectionLoop.execute {
            client.admit(AdmissionClientTests.admit, answeringOn: connectionLoop) { outcome in
                answered.completeWith(connectionLoop.inEventLoop ? .success(outcome) : .failure(ChannelError.eof))
            }
        }
        let admit = try #require(await writes.next()?.first)
        client.resolve(Verdict(requestID: admit.requestID, decision: .admit))
        #expect(try await answered.futureResult.get() == .admitted)
    }

    // MARK: Helpers

    static let ok = HTTPResponseHead(version: .http1_1, status: .ok, headers: ["content-length": "6"])
    static let get = RequestPlan.stream(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/v1/models"), to: .upstream)
    static let upload = RequestPlan.stream(
        HTTPRequestHead(version: .http1_1, method: .POST, uri: "/v1/files", headers: ["content-length": "100"]),
        to: .upstream)

    static func captured(declaring length: Int? = nil, session: String? = nil) -> RequestPlan {
        .capture(
            CapturedRequest(
                upstreamHead: HTTPRequestHead(version: .http1_1, method: .POST, uri: "/v1/chat/completions"),
                keptHeaders: [], metadata: CallMetadata(sessionID: session), method: "POST", target: "/v1/chat/completions",
                format: .openAIChat, declaredLength: length, started: .now))
    }

    func at(_ seconds: Int64) -> NIODeadline {
        .uptimeNanoseconds(UInt64(seconds) * 1_000_000_000)
    }

    /// Where the body being collected is in memory.
    func collectedBodyAddress() -> UInt? {
        guard case .collecting(_, let body, _) = exchange.state else { return nil }
        return body.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
    }

    /// Sends a whole captured call: the action after its end (ADMIT, or asking for a connection).
    mutating func sendCapturedCall(admissionRequired: Bool, session: String? = nil) -> Exchange.Action {
        _ = exchange.requestHead(Self.captured(session: session), version: .http1_1, keepAlive: true, now: at(0))
        _ = exchange.requestBodyPart(ByteBuffer(string: #"{"model":"gpt-4o"}"#))
        return exchange.requestEnded(admissionRequired: admissionRequired, now: at(0))
    }

    /// A captured call sent whole on a connection that takes it: the connection.
    mutating func connectCapturedCall() throws -> Upstream {
        let acquire = try #require(sendCapturedCall(admissionRequired: false).timer)
        let upstream = Upstream()
        #expect(said(exchange.upstreamConnected(upstream, for: acquire.exchange)) == "send 3 parts")
        return upstream
    }

    /// The action in a few words.
    func said(_ action: Exchange.Action) -> String {
        switch action {
        case .none: return "none"
        case .read: return "read"
        case .restartBodyDeadline: return "restart body deadline"
        case .answer(let answer):
            var words = ["answer \(answer.head.status.code)"]
            if answer.closesConnection { words.append("closing") }
            if let record = answer.record { words.append("record \(record.outcome)") }
            if answer.abandoning != nil { words.append("abandoning upstream") }
            if answer.resumesReading { words.append("reading") }
            if let incident = answer.incident { words.append(Self.said(incident)) }
            return words.joined(separator: ", ")
        case .askAdmission: return "ask admission"
        case .acquireUpstream(let route, _, let incident):
            return ["acquire \(route)", incident.map(Self.said)].compactMap { $0 }.joined(separator: ", ")
        case .sendRequest(_, let parts, let paused): return "send \(parts.count) parts" + (paused ? ", paused" : "")
        case .abandonUpstream: return "abandon upstream"
        case .writeToUpstream(_, .body, let flush): return "write body" + (flush ? ", flush" : "")
        case .writeToUpstream(_, let part, let flush): return "write \(part)" + (flush ? ", flush" : "")
        case .flushUpstream: return "flush upstream"
        case .pauseUpstreamReading: return "pause upstream"
        case .resumeUpstreamReading: return "resume upstream"
        case .failUpstream(_, let failure): return "fail upstream: \(failure.reason)"
        case .writeResponseHead(let head, let timer): return "write head \(head.status.code), \(said(timer))"
        case .writeToAgent(let buffer): return "write \(buffer.readableBytes) bytes"
        case .finishResponse(let finished):
            return ["finish", finished.record.map { "record \($0.outcome)" }, finished.resumesReading ? "reading" : nil]
                .compactMap { $0 }.joined(separator: ", ")
        case .cutResponse(let record, _, _): return "cut" + (record.map { ", record \($0.outcome)" } ?? "")
        case .close(let incident): return "close, \(Self.said(incident))"
        case .scheduleUpstreamTimer(let timer): return said(timer)
        case .openTunnel: return "open tunnel"
        case .stop(let record, let upstream):
            return ["stop", record.map { "record \($0.outcome)" }, upstream.map { _ in "abandoning upstream" }]
                .compactMap { $0 }.joined(separator: ", ")
        }
    }

    func said(_ timer: Exchange.UpstreamTimer) -> String {
        "timer at \(timer.deadline.uptimeNanoseconds / 1_000_000_000) s"
    }

    static func said(_ incident: ExchangeIncident) -> String {
        switch incident {
        case .admissionUnavailable(_, let refusing): "admissionUnavailable" + (refusing ? " refusing" : "")
        case .upstreamUnreachable: "upstreamUnreachable"
        case .upstreamFailedMidResponse: "upstreamFailedMidResponse"
        case .bodyBufferFull: "bodyBufferFull"
        default: "\(incident)"
        }
    }
}

extension ProxyExchange.Action {
    var answer: ProxyExchange.Answer? {
        if case .answer(let answer) = self { answer } else { nil }
    }

    var timer: ProxyExchange.UpstreamTimer? {
        if case .acquireUpstream(_, let timer, _) = self { timer } else { nil }
    }

    var admission: ProxyExchange.AdmissionRequest? {
        if case .askAdmission(let request) = self { request } else { nil }
    }

    var record: CapturedCall? {
        switch self {
        case .answer(let answer): answer.record
        case .finishResponse(let finished): finished.record
        case .cutResponse(let record, _, _), .stop(let record, _): record
        default: nil
        }
    }

    /// The upstream connection the action acts on.
    var upstream: Upstream? {
        switch self {
        case .sendRequest(let upstream, _, _), .abandonUpstream(let upstream), .writeToUpstream(let upstream, _, _),
            .flushUpstream(let upstream), .pauseUpstreamReading(let upstream), .resumeUpstreamReading(let upstream),
            .failUpstream(let upstream, _):
            upstream
        case .finishResponse(let finished): finished.upstream
        case .answer(let answer): answer.abandoning
        case .stop(_, let upstream): upstream
        default: nil
        }
    }
}

extension ProxyExchangeSettings {
    func with(_ change: (inout Self) -> Void) -> Self {
        var changed = self
        change(&changed)
        return changed
    }
}

extension ByteBuffer {
    fileprivate var text: String { String(buffer: self) }
}
