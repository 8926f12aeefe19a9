import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Sends one span per stored call to an OTLP/HTTP backend (docs/operations.md, "OpenTelemetry export").
///
/// `enqueue` is called by the ingest pipeline once a batch is committed: it encodes each call's span there (OTLP/
/// protobuf) and files the bytes in a bounded queue (`OTLPExportQueue`), never waiting, so a down or slow backend
/// never slows ingest or an agent's call, and no record outlives its commit. `run()` takes batches of up to
/// `batchSize` (or what came within `batchDelay`), puts them in one request, gzips it, and POSTs one request at a
/// time, retrying as `OTLPRetryPolicy` says. Every span ends exported, failed, rejected
/// by the backend (partial success) or dropped, and is counted in `/metrics`.
package final class OTLPExporter: Service, Sendable {
    /// What waits in the queue: a committed batch's spans, encoded at hand-off, or (OTLP/JSON, encoded by
    /// swift-protobuf) its records; at most `batchSize` spans a unit.
    enum Queued: OTLPExportUnit {
        case spans(OTLPSpanBatch)
        case records([CallRecord])

        var spanCount: Int {
            switch self {
            case .spans(let batch): batch.spanCount
            case .records(let records): records.count
            }
        }
    }

    private struct State: Sendable {
        var queue: OTLPExportQueue<Queued>
        /// The export loop, waiting for the queue to hold at least `threshold` calls.
        var waiter: (threshold: Int, continuation: CheckedContinuation<Void, Never>)?
        var closed = false
        /// Drops not yet logged, and when they were last logged (seconds since the epoch).
        var unloggedDrops = 0
        var lastDropLog: Double = 0
    }

    package let configuration: OTLPExportConfiguration
    private let mapper: OTLPSpanMapper
    private let counters: CollectorCounters
    private let logger: Logger
    private let state: Mutex<State>
    /// Scheme, host, port and path only: a URL's query may hold a credential.
    private let endpointForLogs: String

    package init(configuration: OTLPExportConfiguration, version: String, counters: CollectorCounters, logger: Logger) {
        self.configuration = configuration
        mapper = OTLPSpanMapper(
            serviceName: configuration.serviceName, captureContent: configuration.captureContent, version: version)
        self.counters = counters
        self.logger = logger
        state = Mutex(State(queue: OTLPExportQueue(capacity: configuration.queueSize)))
        endpointForLogs =
            URLComponents(string: configuration.tracesURL).map { url in
                "\(url.scheme ?? "http")://\(url.host ?? "")\(url.port.map { ":\($0)" } ?? "")\(url.path)"
            } ?? "(unparseable URL)"
    }

    /// Files newly stored calls for export; never blocks. Calls recorded from OTLP spans (source `otlp`) are not
    /// sent back out: they came from a tracer that has its own exporter. Prompts and outputs are left behind unless
    /// content capture is on, so the queue holds only what will be sent.
    package func enqueue(_ records: [CallRecord]) {
        // Only what the queue has room for is encoded: with the backend down the queue stays full, and a call that
        // will be dropped costs a count, not an encoding. (Room read now may shrink before the push: the push drops
        // what no longer fits.)
        let room = state.withLock { $0.closed ? 0 : $0.queue.capacity - $0.queue.count }
        let unitSize = max(1, configuration.batchSize)
        var outgoing: [Queued] = []
        var spans = OTLPSpanBatch()
        var jsonRecords: [CallRecord] = []
        var traceIDs: [String: Data] = [:]
        let encoder = OTLPSpanEncoder(mapper: mapper)
        var scratch = ProtobufWriter(capacity: 4_096)
        var accepted = 0
        var unencoded = 0
        // By index: each record is read where it lies in the array, not copied out of it (a copy retains and
        // releases every one of a record's strings and arrays).
        for index in records.indices where records[index].source != OTLPSpanReader.source {
            guard accepted < room else {
                unencoded += 1
                continue
            }
            accepted += 1
            switch configuration.encoding {
            case .protobuf:
                // The mapper writes content only when capture is on, so the record is encoded as it is.
                encoder.encode(records[index], into: &scratch, traceIDs: &traceIDs)
                let expected = min(unitSize - spans.spanCount, records.count - index)
                spans.append(scratch, source: records[index].source, expected: expected)
                if spans.spanCount == unitSize {
                    outgoing.append(.spans(spans))
                    spans = OTLPSpanBatch()
                }
            case .json:
                let record = records[index]
                jsonRecords.append(configuration.captureContent ? record : Self.withoutContent(record))
                if jsonRecords.count == unitSize {
                    outgoing.append(.records(jsonRecords))
                    jsonRecords = []
                }
            }
        }
        if spans.spanCount > 0 { outgoing.append(.spans(spans)) }
        if !jsonRecords.isEmpty { outgoing.append(.records(jsonRecords)) }
        guard !outgoing.isEmpty || unencoded > 0 else { return }
        let now = Date().timeIntervalSince1970
        let (dropped, wake, logDrops) = state.withLock { state in
            let dropped = unencoded + (state.closed ? accepted : state.queue.push(outgoing))
            var wake: CheckedContinuation<Void, Never>?
            if let waiter = state.waiter, state.queue.count >= waiter.threshold {
                wake = waiter.continuation
                state.waiter = nil
            }
            state.unloggedDrops += dropped
            var logDrops = 0
            if state.unloggedDrops > 0, now - state.lastDropLog >= 10 {
                logDrops = state.unloggedDrops
                state.unloggedDrops = 0
                state.lastDropLog = now
            }
            return (dropped, wake, logDrops)
        }
        wake?.resume()
        if dropped > 0 { counters.add(.otelSpansDropped, dropped) }
        if logDrops > 0 {
            logger.warning(
                "OTLP export queue full; spans dropped (backend down or slow)",
                metadata: [
                    "dropped": "\(logDrops)", "queue_size": "\(configuration.queueSize)", "endpoint": "\(endpointForLogs)",
                ])
        }
    }

    /// Spans waiting for export now.
    package var queued: Int { state.withLock { $0.queue.count } }

    package func run() async throws {
        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.redirectConfiguration = .disallow
        clientConfiguration.timeout = .init(connect: .seconds(5))
        clientConfiguration.decompression = .disabled
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: clientConfiguration)
        logger.info(
            "exporting spans over OTLP",
            metadata: ["endpoint": "\(endpointForLogs)", "protocol": "\(configuration.encoding.rawValue)"])
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.exportLoop(client: client) }
            group.addTask {
                try? await gracefulShutdown()
                self.close()
                // Whatever is still queued gets `drainTimeout` to go out, then the loop is cancelled.
                try? await Task.sleep(for: self.configuration.drainTimeout)
            }
            _ = await group.next()
            group.cancelAll()
        }
        let abandoned = state.withLock { $0.queue.removeAll() }
        if abandoned > 0 {
            counters.add(.otelSpansDropped, abandoned)
            logger.warning("spans still queued at shutdown were dropped", metadata: ["dropped": "\(abandoned)"])
        }
        try? await client.shutdown()
    }

    private func close() {
        let waiter = state.withLock { state in
            state.closed = true
            defer { state.waiter = nil }
            return state.waiter?.continuation
        }
        waiter?.resume()
    }

    private func exportLoop(client: HTTPClient) async {
        let batchSize = max(1, configuration.batchSize)
        // Kept from batch to batch: the request's bytes and the compressor's tables, hundreds of KiB each, were
        // allocated and faulted in anew for every batch (8 times the page faults of a collector without export).
        var scratch = ExportScratch()
        while !Task.isCancelled {
            await waitUntil(queued: 1)
            let (closed, count) = state.withLock { ($0.closed, $0.queue.count) }
            if closed && count == 0 { return }
            if !closed && count < batchSize {
                // Let the batch fill, for at most the batch delay.
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { try? await Task.sleep(for: self.configuration.batchDelay) }
                    group.addTask { await self.waitUntil(queued: batchSize) }
                    _ = await group.next()
                    group.cancelAll()
                }
            }
            let batch = state.withLock { $0.queue.take(batchSize) }
            if batch.isEmpty { continue }
            await export(batch, client: client, scratch: &scratch)
        }
    }

    /// Returns once the queue holds `threshold` calls, the exporter is closed, or the task is cancelled.
    private func waitUntil(queued threshold: Int) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state in
                    if state.closed || state.queue.count >= threshold || Task.isCancelled { return true }
                    state.waiter = (threshold, continuation)
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                defer { state.waiter = nil }
                return state.waiter?.continuation
            }
            waiter?.resume()
        }
    }

    /// What one export loop keeps from batch to batch.
    struct ExportScratch {
        var request = ProtobufWriter()
        /// nil when it could not be allocated: each batch then makes its own.
        let compressor = try? OTLPWire.GzipCompressor()
        /// The body sent: its storage is written again once the client has let go of the last request.
        var body = ByteBuffer()
    }

    /// One batch, from encoding to its last attempt.
    func export(_ batch: [Queued], client: HTTPClient, scratch: inout ExportScratch) async {
        let spans = batch.reduce(0) { $0 + $1.spanCount }
        do {
            switch configuration.encoding {
            case .protobuf:
                OTLPSpanEncoder(mapper: mapper).request(
                    for: batch.compactMap { if case .spans(let spans) = $0 { spans } else { nil } }, into: &scratch.request)
            case .json:
                scratch.request.removeAll()
                scratch.request.append(
                    try OTLPWire.encode(
                        mapper.request(
                            for: batch.flatMap { unit -> [CallRecord] in
                                if case .records(let records) = unit { records } else { [] }
                            }),
                        as: .json))
            }
            let compressor = configuration.gzip ? try scratch.compressor ?? OTLPWire.GzipCompressor() : nil
            scratch.body.clear()
            try scratch.request.withBytes { bytes in
                if let compressor { try compressor.compress(bytes, into: &scratch.body) } else { scratch.body.writeBytes(bytes) }
            }
        } catch {
            counters.add(.otelSpansFailed, spans)
            logger.error("OTLP batch could not be encoded; dropped", metadata: ["spans": "\(spans)", "error": "\(error)"])
            return
        }
        let body = scratch.body
        var request = HTTPClientRequest(url: configuration.tracesURL)
        request.method = .POST
        request.headers.add(name: "content-type", value: configuration.encoding.contentType)
        request.headers.add(name: "user-agent", value: "agentledger-otlp-exporter/\(mapper.version)")
        if configuration.gzip { request.headers.add(name: "content-encoding", value: "gzip") }
        for header in configuration.headers { request.headers.replaceOrAdd(name: header.name, value: header.value) }
        request.body = .bytes(body)
        var attempt = 1
        while true {
            counters.add(.otelExportRequests)
            let verdict = await attemptOnce(request, spans: spans, attempt: attempt, client: client)
            switch verdict {
            case .exported:
                return
            case .failed:
                counters.add(.otelSpansFailed, spans)
                return
            case .retry(let wait):
                guard attempt <= configuration.retry.maxRetries, !Task.isCancelled else {
                    counters.add(.otelSpansFailed, spans)
                    logger.warning(
                        "OTLP export gave up after retries; batch dropped",
                        metadata: ["spans": "\(spans)", "attempts": "\(attempt)", "endpoint": "\(endpointForLogs)"])
                    return
                }
                counters.add(.otelExportRetries)
                do { try await Task.sleep(for: wait) } catch {
                    counters.add(.otelSpansFailed, spans)
                    return
                }
                attempt += 1
            }
        }
    }

    private func attemptOnce(_ request: HTTPClientRequest, spans: Int, attempt: Int, client: HTTPClient) async
        -> OTLPRetryPolicy.Verdict
    {
        let jitter = Double.random(in: 0...1)
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            let timeout = configuration.timeout.components
            let nanos = timeout.seconds * 1_000_000_000 + timeout.attoseconds / 1_000_000_000
            response = try await client.execute(request, timeout: .nanoseconds(nanos))
            body = try await response.body.collect(upTo: 1 << 20)
        } catch {
            logger.debug(
                "OTLP export attempt failed",
                metadata: ["attempt": "\(attempt)", "error": "\(error)", "endpoint": "\(endpointForLogs)"])
            return configuration.retry.verdictOnConnectionError(attempt: attempt, jitter: jitter)
        }
        let status = Int(response.status.code)
        let verdict = configuration.retry.verdict(
            status: status, retryAfter: response.headers.first(name: "retry-after"), attempt: attempt, jitter: jitter,
            now: Date().timeIntervalSince1970)
        let bytes = Array(body.readableBytesView)
        let json = response.headers.first(name: "content-type")?.lowercased().contains("json") ?? false
        switch verdict {
        case .exported:
            if let partial = OTLPWire.partialSuccess(in: bytes, json: json) {
                let rejected = Int(clamping: max(0, min(partial.rejectedSpans, Int64(spans))))
                counters.add(.otelSpansRejected, rejected)
                counters.add(.otelSpansExported, spans - rejected)
                logger.warning(
                    "OTLP backend accepted the batch in part; not retried",
                    metadata: [
                        "rejected_spans": "\(partial.rejectedSpans)", "message": "\(partial.errorMessage.prefix(300))",
                        "endpoint": "\(endpointForLogs)",
                    ])
            } else {
                counters.add(.otelSpansExported, spans)
            }
        case .failed:
            logger.warning(
                "OTLP backend refused the batch; not retried",
                metadata: [
                    "status": "\(status)", "spans": "\(spans)", "endpoint": "\(endpointForLogs)",
                    "answer": "\(String(decoding: bytes.prefix(300), as: UTF8.self))",
                ])
        case .retry:
            logger.debug("OTLP backend asked for a retry", metadata: ["status": "\(status)", "attempt": "\(attempt)"])
        }
        return verdict
    }

    /// The record without what only content capture exports: the queue then holds no prompts.
    static func withoutContent(_ record: CallRecord) -> CallRecord {
        var record = record
        record.messages = []
        record.systemPrompt = nil
        record.tools = nil
        record.toolCalls = nil
        record.toolResults = nil
        record.content = nil
        return record
    }
}
