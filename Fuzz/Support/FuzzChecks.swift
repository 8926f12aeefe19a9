import LedgerProtocol

// Checks shared by the collector fuzz targets (Fuzz/*Fuzz.swift); built by scripts/fuzz into each of them.
@testable import Collector

/// The invariants every fuzz target asserts about what the collector makes of its input.
enum FuzzChecks {
    /// The three wire formats, with a path that routes to each (`LedgerProviders`, read through `ProviderRoute`).
    static let routes: [(route: ProviderRoute, path: String)] = [
        "/v1/chat/completions", "/v1/responses", "/v1/messages",
    ].map { (ProviderRoute(path: $0), $0) }

    /// `JSONWriter` writes text `JSONReader` reads back, and writing that again gives the same text.
    static func checkCanonical(_ value: JSONValue, _ what: @autoclosure () -> String) {
        let text = JSONWriter.text(of: value)
        let again: JSONValue
        do {
            again = try JSONReader.parse(text)
        } catch {
            preconditionFailure("\(what()): JSONWriter wrote text JSONReader cannot read (\(error)): \(text.prefix(200))")
        }
        precondition(JSONWriter.text(of: again) == text, "\(what()): JSONWriter's text is not canonical")
    }

    /// A stored record renders as a JSON document (the read API's bytes), and its JSON columns as the store
    /// writes them (`JSONText`) are JSON too.
    static func checkRenders(_ record: CallRecord) {
        var output: [UInt8] = []
        record.appendJSON(to: &output)
        do {
            _ = try JSONReader.parse(output)
        } catch {
            preconditionFailure("record JSON does not parse (\(error)): \(String(decoding: output.prefix(300), as: UTF8.self))")
        }
        checkParses(JSONText.encode(record.messages), "messages column")
        if let tools = record.tools { checkParses(JSONText.encode(tools), "tools column") }
        if let calls = record.toolCalls { checkParses(JSONText.encode(calls), "tool_calls column") }
        if let results = record.toolResults { checkParses(JSONText.encode(results), "tool_results column") }
    }

    private static func checkParses(_ text: String, _ what: String) {
        do {
            _ = try JSONReader.parse(text)
        } catch {
            preconditionFailure("\(what) is not JSON (\(error)): \(text.prefix(200))")
        }
    }

    /// A call that answered `body` with `contentType`, as the sidecar would capture it, on `path`.
    static func call(path: String, request: [UInt8], response: [UInt8], contentType: String) -> CapturedCall {
        CapturedCall(
            actionID: "fuzz", arrivedAtMicros: 1_700_000_000_000_000, method: "POST", path: path, source: "fuzz",
            requestHeaders: [HeaderField("content-type", "application/json")], requestBody: request,
            statusCode: 200, responseHeaders: [HeaderField("content-type", contentType)], responseBody: response,
            firstByteMicros: 1_000, completedMicros: 2_000)
    }
}
