import HTTPTypes
import Hummingbird
import LedgerProtocol
import Logging
import NIOCore
import OTLPProto

/// `POST /v1/traces` on the collector's HTTP port (docs/reference.md, "OTLP ingest"): OTLP/HTTP from
/// OpenTelemetry-instrumented agents, protobuf or JSON, plain or gzip. LLM spans become records (source `otlp`)
/// through the ingest pipeline; other spans are counted and reported back as rejected in a partial success.
///
/// Mounted before the API key and Host/Origin middleware: it authenticates itself, with `AGENTLEDGER_INGEST_TOKEN`
/// as a bearer token when set, else the API key; with neither it is open and the Host/Origin policy applies.
package struct OTLPIngestRoute: Sendable {
    package static let path = "/v1/traces"

    /// Who may send spans.
    package enum Access: Sendable {
        /// No credential is configured: anyone the Host/Origin policy lets through.
        case open(HostOriginPolicy)
        /// `Authorization: Bearer` must present this secret (the ingest token, or the API key).
        case bearer(APIKey)
        /// A credential is configured that this route cannot check (per-sidecar tokens only): refuse everything.
        case closed(String)
    }

    let reader: OTLPSpanReader
    let pipeline: IngestPipeline
    let counters: CollectorCounters
    let access: Access
    /// Largest body accepted, compressed and decompressed (`AGENTLEDGER_OTLP_MAX_BODY_MB`); 413 above.
    let maxBodyBytes: Int
    let logger: Logger

    package init(
        pipeline: IngestPipeline, counters: CollectorCounters, access: Access, maxBodyBytes: Int, logger: Logger
    ) {
        reader = OTLPSpanReader(prices: pipeline.normalizer.prices)
        self.pipeline = pipeline
        self.counters = counters
        self.access = access
        self.maxBodyBytes = maxBodyBytes
        self.logger = logger
    }

    package func addRoute<Context: RequestContext>(to router: Router<Context>) {
        router.post(RouterPath(stringLiteral: String(Self.path.dropFirst()))) { request, _ in
            await handle(request)
        }
    }

    /// The answer to one export request; never throws, every failure is an OTLP error answer.
    func handle(_ request: Request) async -> Response {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        let json = contentType.hasPrefix("application/json")
        if let refusal = refusal(request) {
            counters.add(.otlpRefusedAuth)
            return Self.error(refusal.status, refusal.message, json: json)
        }
        guard json || contentType.hasPrefix("application/x-protobuf") || contentType.hasPrefix("application/protobuf") else {
            counters.add(.otlpRefusedBadRequest)
            return Self.error(
                .unsupportedMediaType, "Content-Type must be application/x-protobuf or application/json", json: json)
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maxBodyBytes)
        } catch {
            counters.add(.otlpRefusedTooLarge)
            return Self.error(.contentTooLarge, "body is larger than \(maxBodyBytes) bytes", json: json)
        }
        let decoded: Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest
        do {
            let bytes: [UInt8]
            switch request.headers[.contentEncoding]?.lowercased().trimmingCharacters(in: .whitespaces) {
            case nil, "", "identity": bytes = Array(body.readableBytesView)
            case "gzip", "x-gzip": bytes = try OTLPWire.gunzip(body, maxSize: maxBodyBytes)
            case let other?:
                counters.add(.otlpRefusedBadRequest)
                return Self.error(
                    .unsupportedMediaType, "Content-Encoding \(other.prefix(40)) is not supported; use gzip", json: json)
            }
            decoded = try OTLPWire.decodeRequest(bytes, json: json)
        } catch {
            if error.description == OTLPWire.tooLarge {
                counters.add(.otlpRefusedTooLarge)
                return Self.error(.contentTooLarge, "\(error.description) (\(maxBodyBytes) bytes)", json: json)
            }
            counters.add(.otlpRefusedBadRequest)
            return Self.error(.badRequest, error.description, json: json)
        }
        let reading = reader.read(decoded)
        counters.add(.otlpSpansLLM, reading.records.count)
        counters.add(.otlpSpansOther, reading.notLLM)
        if !reading.records.isEmpty {
            do {
                _ = try await pipeline.commit(spanRecords: reading.records, rejectedUsageCounts: reading.rejectedUsageCounts)
            } catch {
                counters.add(.otlpRefusedStore)
                logger.warning("OTLP spans not stored: store unavailable", metadata: ["error": "\(error)"])
                var response = Self.error(.serviceUnavailable, "store unavailable; retry later", json: json)
                response.headers[.retryAfter] = "5"
                return response
            }
        }
        var answer = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse()
        if reading.notLLM > 0 {
            var partial = Opentelemetry_Proto_Collector_Trace_V1_ExportTracePartialSuccess()
            partial.rejectedSpans = Int64(reading.notLLM)
            partial.errorMessage =
                "\(reading.notLLM) of \(reading.notLLM + reading.records.count) spans are not LLM calls; not recorded"
            answer.partialSuccess = partial
        }
        return Self.response(.ok, OTLPWire.encodeResponse(answer, json: json), json: json)
    }

    private func refusal(_ request: Request) -> (status: HTTPResponse.Status, message: String)? {
        switch access {
        case .open(let policy):
            return policy.refusal(request).map { (.forbidden, $0.message) }
        case .bearer(let key):
            let token = request.headers[.authorization].flatMap(APIKeyMiddleware<BasicRequestContext>.bearerToken)
            return token.map(key.accepts) == true ? nil : (.unauthorized, "send Authorization: Bearer <token>")
        case .closed(let message):
            return (.unauthorized, message)
        }
    }

    /// An error answer in the OTLP shape: a `google.rpc.Status` (code and message) in the request's encoding.
    static func error(_ status: HTTPResponse.Status, _ message: String, json: Bool) -> Response {
        let code: Int = status == .badRequest ? 3 : status == .unauthorized ? 16 : status == .serviceUnavailable ? 14 : 2
        if json {
            var body: [UInt8] = Array(#"{"code":\#(code),"message":"#.utf8)
            JSONString.write(message, to: &body)
            body.append(UInt8(ascii: "}"))
            return response(status, body, json: true)
        }
        var body: [UInt8] = [0x08, UInt8(code), 0x12]
        let text = Array(message.utf8.prefix(1000))
        var length = text.count
        while length >= 0x80 {
            body.append(UInt8(length & 0x7F) | 0x80)
            length >>= 7
        }
        body.append(UInt8(length))
        body.append(contentsOf: text)
        return response(status, body, json: false)
    }

    private static func response(_ status: HTTPResponse.Status, _ body: [UInt8], json: Bool) -> Response {
        Response(
            status: status, headers: [.contentType: json ? "application/json" : "application/x-protobuf"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}
