import Foundation

/// Where and how the collector exports spans (docs/reference.md, "OpenTelemetry"; docs/operations.md,
/// "OpenTelemetry export"). Each field names its variable; defaults are stated once, here.
package struct OTLPExportConfiguration: Sendable {
    /// The wire encoding of `ExportTraceServiceRequest`.
    package enum Encoding: String, Sendable {
        case protobuf = "http/protobuf"
        case json = "http/json"

        var contentType: String {
            switch self {
            case .protobuf: "application/x-protobuf"
            case .json: "application/json"
            }
        }
    }

    /// The traces URL: `AGENTLEDGER_OTEL_ENDPOINT` + `/v1/traces`, or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as is, or
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`.
    package var tracesURL: String
    /// `AGENTLEDGER_OTEL_HEADERS` (else `OTEL_EXPORTER_OTLP_TRACES_HEADERS` / `OTEL_EXPORTER_OTLP_HEADERS`), `k=v,k2=v2`.
    /// Values are secrets (API keys): never logged.
    package var headers: [(name: String, value: String)] = []
    /// `AGENTLEDGER_OTEL_SERVICE_NAME`, default `agentledger`.
    package var serviceName = "agentledger"
    /// `AGENTLEDGER_OTEL_PROTOCOL`: `http/protobuf` (default) or `http/json`.
    package var encoding = Encoding.protobuf
    /// `AGENTLEDGER_OTEL_CAPTURE_CONTENT`: also export prompts and outputs. Default false.
    package var captureContent = false
    /// `AGENTLEDGER_OTEL_BATCH_SIZE`: most spans in one request. Default 512.
    package var batchSize = 512
    /// `AGENTLEDGER_OTEL_BATCH_DELAY_MS`: longest a span waits for its batch to fill. Default 1,000.
    package var batchDelay: Duration = .milliseconds(1000)
    /// `AGENTLEDGER_OTEL_QUEUE_SIZE`: spans waiting for export at most; more are dropped and counted. Default 8,192.
    package var queueSize = 8192
    /// `AGENTLEDGER_OTEL_TIMEOUT_MS`: one request's deadline. Default 10,000.
    package var timeout: Duration = .seconds(10)
    /// `AGENTLEDGER_OTEL_GZIP`: compress request bodies. Default true.
    package var gzip = true
    /// Retries of one batch (after its first attempt) on 429, 502, 503, 504 and connection errors.
    package var retry = OTLPRetryPolicy()
    /// How long shutdown goes on exporting what is queued.
    package var drainTimeout: Duration = .seconds(5)

    package init(tracesURL: String) {
        self.tracesURL = tracesURL
    }

    /// `k=v,k2=v2` as the OpenTelemetry SDKs read it: names trimmed, values percent-decoded; nil names the entry that
    /// is not `k=v`.
    package static func parseHeaders(_ text: String) -> (headers: [(name: String, value: String)], bad: String?) {
        var headers: [(name: String, value: String)] = []
        for entry in text.split(separator: ",") {
            let trimmed = entry.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let equals = trimmed.firstIndex(of: "=") else { return (headers, String(trimmed.prefix(40))) }
            let name = trimmed[..<equals].trimmingCharacters(in: .whitespaces)
            let raw = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty, name.utf8.allSatisfy(Self.isTokenByte) else { return (headers, String(name.prefix(40))) }
            headers.append((name, raw.removingPercentEncoding ?? raw))
        }
        return (headers, nil)
    }

    /// An HTTP header name's characters (RFC 9110 `tchar`).
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}
