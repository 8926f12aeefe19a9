import LedgerProtocol
import NIOCore
import NIOHTTP1

/// Builds the `CapturedCall` of one exchange while its response streams past: a bounded copy of the
/// body and the times of the first and last byte.
struct CaptureTap: Sendable {
    private(set) var call: CapturedCall
    private(set) var finished = false
    let started: MonotonicInstant
    let limit: Int

    init(call: CapturedCall, started: MonotonicInstant, limit: Int) {
        self.call = call
        self.started = started
        self.limit = limit
    }

    mutating func responded(status: UInt, headers: HTTPHeaders) {
        call.statusCode = UInt16(clamping: status)
        call.responseHeaders = headers.compactMap { header in
            let lowered = header.name.lowercased()
            guard HeaderPolicy.recordsResponseHeader(lowered), !HeaderPolicy.isCredential(lowered) else { return nil }
            return HeaderField(header.name, header.value)
        }
    }

    mutating func received(_ chunk: ByteBuffer) {
        guard chunk.readableBytes > 0 else { return }
        if call.firstByteMicros == nil { call.firstByteMicros = started.microsElapsed }
        let room = limit - call.responseBody.count
        if chunk.readableBytes <= room {
            call.responseBody.append(contentsOf: chunk.readableBytesView)
        } else {
            if room > 0 { call.responseBody.append(contentsOf: chunk.readableBytesView.prefix(room)) }
            call.responseBodyTruncated = true
        }
    }

    /// The record, finished with `outcome`: the tap is used up, so its call is moved out rather than copied.
    consuming func finishedCall(outcome: CallOutcome, detail: String?) -> CapturedCall {
        finish(outcome: outcome, detail: detail)
        return call
    }

    mutating func finish(outcome: CallOutcome, detail: String?) {
        guard !finished else { return }
        finished = true
        call.completedMicros = started.microsElapsed
        call.outcome = outcome
        call.outcomeDetail = detail
    }
}
