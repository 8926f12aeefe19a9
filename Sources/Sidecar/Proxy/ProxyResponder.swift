import AsyncHTTPClient
import HTTPTypes
import Hummingbird
import LedgerProtocol
import Logging
import NIOCore
import NIOHTTP1

/// Forwards every request to the upstream and streams the answer back unchanged; for captured LLM
/// paths it also taps a copy of the exchange and hands it to the shipper once the response has ended.
package struct ProxyResponder<Context: RequestContext>: HTTPResponder {
    let configuration: ProxyConfiguration
    let client: HTTPClient
    package let shipper: Shipper
    let admission: AdmissionClient
    let logger: Logger
    /// `configuration.upstreamBase`, computed once.
    private let upstreamBase: String
    /// The logger handed to the HTTP client, which only logs at debug and below but sets request metadata on
    /// every call: nil (its own no-op logger) unless those levels are on.
    private let clientLogger: Logger?

    package init(
        configuration: ProxyConfiguration, client: HTTPClient, shipper: Shipper, admission: AdmissionClient, logger: Logger
    ) {
        self.configuration = configuration
        self.client = client
        self.shipper = shipper
        self.admission = admission
        self.logger = logger
        upstreamBase = String(configuration.upstreamBase)
        clientLogger = logger.logLevel <= .debug ? logger : nil
    }

    package func respond(to request: Request, context: Context) async throws -> Response {
        let started = ContinuousClock.now
        let method = request.method.rawValue
        let target = request.head.path ?? "/"
        let path = CapturedPaths.path(of: target)
        let captured = CapturedPaths.captures(method: method, path: path)

        let declaredLength = request.headers[.contentLength].flatMap { Int($0) }
        if let declaredLength, declaredLength > configuration.maxBodyBytes {
            shipper.counters.add(.bodyTooLarge)
            return ProxyError.bodyTooLarge(limit: configuration.maxBodyBytes).response
        }

        var outbound = HTTPClientRequest(url: upstreamBase + target)
        outbound.method = HTTPMethod(rawValue: method)
        var metadata = CallMetadata()
        var keptHeaders: [HeaderField] = []
        let dropped = HeaderPolicy.connectionTokens(request.headers[.connection])
        for field in request.headers {
            let name = field.name.canonicalName
            if let suffix = HeaderPolicy.ownSuffix(name) {
                HeaderPolicy.apply(suffix: suffix, value: field.value, to: &metadata)
                continue
            }
            if HeaderPolicy.hopByHop.contains(name) || dropped.contains(name) { continue }
            outbound.headers.add(name: field.name.rawName, value: field.value)
            if captured && !HeaderPolicy.credentials.contains(name) {
                keptHeaders.append(HeaderField(name, field.value))
            }
        }

        guard captured else {
            if let declaredLength {
                outbound.body = .stream(request.body, length: .known(Int64(declaredLength)))
            } else if request.headers[.transferEncoding] != nil {
                outbound.body = .stream(request.body, length: .unknown)
            }
            return try await forward(outbound, capture: nil)
        }

        if configuration.refuseWhenCollectorDown && !shipper.isLinkReady {
            shipper.counters.add(.refusedCollectorDown)
            return ProxyError.collectorUnavailable.response
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: configuration.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            shipper.counters.add(.bodyTooLarge)
            return ProxyError.bodyTooLarge(limit: configuration.maxBodyBytes).response
        }
        let withUsage = path == CapturedPaths.openAIChat ? UsageInjection.inject(into: body) : nil
        outbound.body = .bytes(withUsage ?? body)
        let capture = CapturedCall(
            actionID: ActionID.make(), arrivedAtMicros: WallClock.nowMicros() - (ContinuousClock.now - started).micros,
            method: method, path: target, source: configuration.source, metadata: metadata,
            requestHeaders: keptHeaders, requestBody: Array(body.readableBytesView), usageInjected: withUsage != nil)
        let tap = CaptureTap(call: capture, started: started, limit: configuration.maxCapturedResponseBytes)
        if admission.isRequired, let refusal = await admit(tap, body: body) {
            return refusal
        }
        return try await forward(outbound, capture: tap)
    }

    /// Asks the collector before forwarding. Returns the response that ends the call when it may not go upstream
    /// (a 429 refusal, or a 503 when no decision can be had and the sidecar runs closed); nil to forward.
    private func admit(_ tap: CaptureTap, body: ByteBuffer) async -> Response? {
        let call = tap.call
        let summary = CallSummary(body: body)
        let outcome = await admission.admit { requestID in
            Admit(
                requestID: requestID, actionID: call.actionID, sessionID: call.metadata.sessionID,
                agentName: call.metadata.agentName, userID: call.metadata.userID, appID: call.metadata.appID,
                model: summary.model, bodyBytes: UInt32(clamping: body.readableBytes), maxTokens: summary.maxTokens)
        }
        switch outcome {
        case .notRequired, .admitted:
            return nil
        case .refused(let verdict):
            shipper.counters.add(.refusedByCollector)
            let refusal = ProxyError.refused(
                type: verdict.refusalType ?? "budget_exceeded", message: verdict.message ?? "refused by the collector",
                retryAfterSeconds: verdict.retryAfterSeconds)
            var response = refusal.response
            var tap = tap
            tap.responded(status: UInt(response.status.code), headers: ["content-type": "application/json"])
            tap.received(refusal.body)
            tap.finish(outcome: .refused, detail: refusal.description)
            shipper.ship(tap.call)
            response.headers[.agentLedgerActionID] = call.actionID
            if let session = call.metadata.sessionID { response.headers[.agentLedgerSessionID] = session }
            return response
        case .unavailable(let reason):
            shipper.counters.add(.admissionUnavailable)
            guard configuration.refuseWhenCollectorDown else {
                logger.debug("forwarding without a verdict", metadata: ["reason": "\(reason)"])
                return nil
            }
            shipper.counters.add(.refusedCollectorDown)
            return ProxyError.collectorUnavailable.response
        }
    }

    private func forward(_ outbound: HTTPClientRequest, capture: CaptureTap?) async throws -> Response {
        let upstream: HTTPClientResponse
        do {
            upstream = try await client.execute(
                outbound, deadline: .now() + .nanoseconds(Int64(configuration.upstreamHeadTimeout.micros * 1000)),
                logger: clientLogger)
        } catch {
            shipper.counters.add(.upstreamUnreachable)
            let failure = ProxyError.upstreamUnreachable("\(error)")
            logger.warning("upstream unreachable", metadata: ["error": "\(error)"])
            if var capture {
                capture.finish(outcome: .upstreamUnreachable, detail: failure.description)
                shipper.ship(capture.call)
                var response = failure.response
                response.headers[.agentLedgerActionID] = capture.call.actionID
                return response
            }
            return failure.response
        }

        var headers = HTTPFields()
        let dropped = HeaderPolicy.connectionTokens(upstream.headers.first(name: "connection"))
        var contentLength: Int?
        for header in upstream.headers {
            let name = header.name.lowercased()
            if name == "content-length" { contentLength = Int(header.value) }
            if HeaderPolicy.hopByHop.contains(name) || dropped.contains(name) { continue }
            guard let fieldName = HTTPField.Name(header.name) else { continue }
            headers.append(HTTPField(name: fieldName, value: header.value))
        }
        let status = HTTPResponse.Status(code: Int(upstream.status.code), reasonPhrase: upstream.status.reasonPhrase)

        guard var capture else {
            return Response(status: status, headers: headers, body: ResponseBody(asyncSequence: upstream.body))
        }
        headers[.agentLedgerActionID] = capture.call.actionID
        if let session = capture.call.metadata.sessionID { headers[.agentLedgerSessionID] = session }
        capture.responded(status: upstream.status.code, headers: upstream.headers)
        // The agent did not ask for stream usage: hide what only our request for it added.
        let eventStream = Self.isEventStream(upstream.headers)
        let filtering = capture.call.usageInjected && upstream.status.code == 200 && eventStream
        if !eventStream, let contentLength, contentLength > 0, contentLength <= Self.bufferedResponseLimit {
            return try await respondBuffered(
                status: status, headers: headers, contentLength: contentLength, body: upstream.body, capture: capture)
        }
        let shipper = self.shipper
        let upstreamBody = upstream.body
        let tapped = capture
        return Response(
            status: status, headers: headers,
            body: ResponseBody(contentLength: filtering ? nil : contentLength) { writer in
                var capture = tapped
                var filter = filtering ? UsageChunkFilter() : nil
                func send(_ buffer: ByteBuffer) async throws {
                    guard buffer.readableBytes > 0 else { return }
                    do {
                        try await writer.write(buffer)
                    } catch {
                        capture.finish(outcome: .clientDisconnected, detail: "client disconnected: \(error)")
                        shipper.ship(capture.call)
                        throw error
                    }
                }
                do {
                    for try await chunk in upstreamBody {
                        capture.received(chunk)
                        try await send(filter == nil ? chunk : ByteBuffer(bytes: filter!.process(chunk)))
                    }
                } catch let error where !capture.finished {
                    capture.finish(outcome: .upstreamFailed, detail: "upstream failed mid-response: \(error)")
                    shipper.ship(capture.call)
                    throw error
                }
                if filter != nil { try await send(ByteBuffer(bytes: filter!.finish())) }
                capture.finish(outcome: .completed, detail: nil)
                shipper.ship(capture.call)
                try await writer.finish(nil)
            })
    }

    /// Largest declared length of a non-stream answer that is read whole before the agent gets it.
    static var bufferedResponseLimit: Int { 256 << 10 }

    /// A non-stream answer of known, bounded length: read whole, then sent as head and body in one write, which
    /// saves the per-chunk handoffs of the streaming path. The agent gets the same bytes; should the upstream fail
    /// part way, it gets the head and the bytes read so far, then the connection ends, as when streaming.
    private func respondBuffered(
        status: HTTPResponse.Status, headers: HTTPFields, contentLength: Int, body: HTTPClientResponse.Body,
        capture tapped: CaptureTap
    ) async throws -> Response {
        var capture = tapped
        var collected = ByteBuffer()
        do {
            for try await chunk in body {
                capture.received(chunk)
                if collected.readableBytes == 0 {
                    collected = chunk
                } else {
                    collected.writeImmutableBuffer(chunk)
                }
            }
        } catch {
            capture.finish(outcome: .upstreamFailed, detail: "upstream failed mid-response: \(error)")
            shipper.ship(capture.call)
            let partial = collected
            return Response(
                status: status, headers: headers,
                body: ResponseBody(contentLength: contentLength) { writer in
                    if partial.readableBytes > 0 { try await writer.write(partial) }
                    throw error
                })
        }
        capture.finish(outcome: .completed, detail: nil)
        shipper.ship(capture.call)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: collected))
    }

    static func isEventStream(_ headers: HTTPHeaders) -> Bool {
        headers.first(name: "content-type")?.lowercased().hasPrefix("text/event-stream") ?? false
    }
}

extension HTTPField.Name {
    static let agentLedgerActionID = HTTPField.Name("x-agentledger-action-id")!
    static let agentLedgerSessionID = HTTPField.Name("x-agentledger-session-id")!
}
