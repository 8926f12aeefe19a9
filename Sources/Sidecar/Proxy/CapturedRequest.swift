import LedgerProtocol
import LedgerProviders
import NIOCore
import NIOHTTP1

/// A captured call's request as its head left it: the head the upstream will get, and what its record keeps. Once
/// the body has been read whole, `forwarded(body:source:responseLimit:)` makes the record and the request parts.
///
/// A class, read-only: the exchange's states and the plan carry one reference, not its several hundred bytes, so
/// each body chunk and each change of state moves a pointer (docs/benchmarks.md, "The sidecar's per-call CPU after
/// the design pass").
final class CapturedRequest: Sendable {
    /// The head for the upstream, without framing: the body's length is known once it is read.
    let upstreamHead: HTTPRequestHead
    /// The request headers the record keeps.
    let keptHeaders: [HeaderField]
    let metadata: CallMetadata
    let method: String
    /// The request target as the agent sent it (the record scrubs its credentials).
    let target: String
    /// The call's wire format: a stream of a format that reports usage only when asked gets it asked for
    /// (`UsageInjection`).
    let format: ProviderFormat
    /// The body's `content-length`, if the agent sent one.
    let declaredLength: Int?
    let started: MonotonicInstant

    init(
        upstreamHead: HTTPRequestHead, keptHeaders: [HeaderField], metadata: CallMetadata, method: String, target: String,
        format: ProviderFormat, declaredLength: Int?, started: MonotonicInstant
    ) {
        self.upstreamHead = upstreamHead
        self.keptHeaders = keptHeaders
        self.metadata = metadata
        self.method = method
        self.target = target
        self.format = format
        self.declaredLength = declaredLength
        self.started = started
    }

    /// What a whole body becomes: the record under way, the body as it goes upstream, and the request parts.
    struct Forwarded {
        var record: CaptureTap
        var body: ByteBuffer
        var parts: [HTTPClientRequestPart]
    }

    /// The record of the call and the request for the upstream, now that `body` is whole.
    func forwarded(body: ByteBuffer, source: String, responseLimit: Int) -> Forwarded {
        let withUsage = UsageInjection.inject(into: body, for: format.described.streamUsage)
        let call = CapturedCall(
            actionID: ActionID.make(), arrivedAtMicros: WallClock.nowMicros() - started.microsElapsed,
            method: method, path: RecordedTarget.scrubbed(target), source: source, metadata: metadata,
            requestHeaders: keptHeaders, requestBody: Array(body.readableBytesView), usageInjected: withUsage != nil)
        let forwarded = withUsage ?? body
        var head = upstreamHead
        head.headers.add(name: "content-length", value: String(forwarded.readableBytes))
        return Forwarded(
            record: CaptureTap(call: call, started: started, limit: responseLimit), body: forwarded,
            parts: [.head(head), .body(.byteBuffer(forwarded)), .end(nil)])
    }
}
