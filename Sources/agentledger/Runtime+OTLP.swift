import Collector
import Foundation
import Logging

extension Runtime {
    /// The OTLP exporter's settings (docs/reference.md, "OpenTelemetry"), nil when no endpoint is set. Ours first;
    /// the OpenTelemetry SDKs' standard `OTEL_EXPORTER_OTLP_*` variables when ours are unset.
    static func otlpExport(settings: Settings) throws -> OTLPExportConfiguration? {
        let environment = settings.environment
        func standard(_ name: String) -> String? {
            environment[name].flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
        }
        let tracesURL: String
        let origin: String
        var fromStandardVariables = false
        if let base = settings.string(nil, "AGENTLEDGER_OTEL_ENDPOINT") {
            (tracesURL, origin) = (Self.tracesURL(base: base), "AGENTLEDGER_OTEL_ENDPOINT")
        } else if let url = standard("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
            (tracesURL, origin, fromStandardVariables) = (url, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", true)
        } else if let base = standard("OTEL_EXPORTER_OTLP_ENDPOINT") {
            (tracesURL, origin, fromStandardVariables) = (Self.tracesURL(base: base), "OTEL_EXPORTER_OTLP_ENDPOINT", true)
        } else {
            return nil
        }
        guard let url = URL(string: tracesURL), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty
        else {
            throw ConfigurationError(description: "\(origin) is not valid: expected an http:// or https:// URL")
        }
        var configuration = OTLPExportConfiguration(tracesURL: tracesURL)
        let headerSources: [(String, String?)] = [
            ("AGENTLEDGER_OTEL_HEADERS", settings.string(nil, "AGENTLEDGER_OTEL_HEADERS")),
            ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", standard("OTEL_EXPORTER_OTLP_TRACES_HEADERS")),
            ("OTEL_EXPORTER_OTLP_HEADERS", standard("OTEL_EXPORTER_OTLP_HEADERS")),
        ]
        if let (variable, text) = headerSources.first(where: { $0.1 != nil }), let text {
            let parsed = OTLPExportConfiguration.parseHeaders(text)
            if let bad = parsed.bad {
                // The value is a secret: only the offending name's first characters are shown.
                throw ConfigurationError(description: "\(variable) is not valid near '\(bad)': expected k=v,k2=v2")
            }
            configuration.headers = parsed.headers
        }
        configuration.serviceName =
            settings.string(nil, "AGENTLEDGER_OTEL_SERVICE_NAME") ?? standard("OTEL_SERVICE_NAME") ?? Defaults.otelServiceName
        let choices = [OTLPExportConfiguration.Encoding.protobuf.rawValue, OTLPExportConfiguration.Encoding.json.rawValue]
        if settings.string(nil, "AGENTLEDGER_OTEL_PROTOCOL") != nil || !fromStandardVariables {
            configuration.encoding = .init(
                rawValue: try settings.choice(nil, "AGENTLEDGER_OTEL_PROTOCOL", default: Defaults.otelProtocol, among: choices))!
        } else if let name = standard("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") ?? standard("OTEL_EXPORTER_OTLP_PROTOCOL") {
            guard let encoding = OTLPExportConfiguration.Encoding(rawValue: name) else {
                throw ConfigurationError(
                    description:
                        "OTEL_EXPORTER_OTLP_PROTOCOL='\(name)' is not supported by agentledger: set AGENTLEDGER_OTEL_PROTOCOL to http/protobuf or http/json"
                )
            }
            configuration.encoding = encoding
        }
        configuration.captureContent =
            try settings.choice(
                nil, "AGENTLEDGER_OTEL_CAPTURE_CONTENT", default: "false", among: ["true", "false", "1", "0"]
            )
            .isTruthy
        configuration.gzip = try settings.choice(
            nil, "AGENTLEDGER_OTEL_GZIP", default: "true", among: ["true", "false", "1", "0"]
        )
        .isTruthy
        configuration.batchSize = try settings.integer(
            nil, "AGENTLEDGER_OTEL_BATCH_SIZE", default: Defaults.otelBatchSize, in: 1...100_000)
        configuration.batchDelay = .milliseconds(
            try settings.integer(nil, "AGENTLEDGER_OTEL_BATCH_DELAY_MS", default: Defaults.otelBatchDelayMs, in: 1...600_000))
        configuration.queueSize = try settings.integer(
            nil, "AGENTLEDGER_OTEL_QUEUE_SIZE", default: Defaults.otelQueueSize, in: 1...10_000_000)
        configuration.timeout = .milliseconds(
            try settings.integer(nil, "AGENTLEDGER_OTEL_TIMEOUT_MS", default: Defaults.otelTimeoutMs, in: 1...600_000))
        return configuration
    }

    /// `{base}/v1/traces`, as the OpenTelemetry SDKs build it from a base endpoint.
    static func tracesURL(base: String) -> String {
        var base = base.trimmingCharacters(in: .whitespaces)
        while base.hasSuffix("/") { base.removeLast() }
        return base + "/v1/traces"
    }

    /// Who may post spans to `/v1/traces`: the ingest token when set, else the API key, else anyone the Host/Origin
    /// policy admits; with per-sidecar tokens only, nobody (they name a source, which an OTLP request does not).
    static func otlpIngestAccess(
        ingestToken: String?, tokensFile: Bool, apiKey: APIKey?, hostOriginPolicy: HostOriginPolicy
    ) -> OTLPIngestRoute.Access {
        if let token = ingestToken.flatMap(APIKey.init(secret:)) { return .bearer(token) }
        if let apiKey { return .bearer(apiKey) }
        if tokensFile {
            return .closed(
                "OTLP ingest needs AGENTLEDGER_INGEST_TOKEN or AGENTLEDGER_API_KEY when only AGENTLEDGER_INGEST_TOKENS_FILE is set"
            )
        }
        return .open(hostOriginPolicy)
    }
}

extension String {
    fileprivate var isTruthy: Bool { self == "true" || self == "1" }
}
