// libFuzzer target: the provider adapters on whole JSON bodies; built by scripts/fuzz against the pure part of
// Sources/Collector (Adapters, Model, Pricing) and Sources/Protocol.
//
// For each input that `JSONReader` accepts, it checks that:
// - `JSONWriter` writes it as text `JSONReader` reads back, canonically (docs/protocol.md: JSON columns);
// - each adapter (OpenAI chat, Responses, Anthropic) reads it as a request and as a response without trapping;
// - the collector's whole path, `Normalizer.record(from:)` with the input as both request and response body,
//   gives a record that renders as JSON.
// Inputs `JSONReader` refuses only have to not trap.
@testable import Collector

private let normalizer = Normalizer()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONAdapters(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let document = try? JSONReader.parse(bytes) else { return 0 }
    FuzzChecks.checkCanonical(document, "body")
    _ = UpstreamError.message(in: document, lenient: true)
    for (route, path) in FuzzChecks.routes {
        var record = CallRecord(actionID: "fuzz", timestampMicros: 0)
        route.adapter.readRequest(document, into: &record)
        FuzzChecks.checkRenders(record)
        _ = route.adapter.readResponse(document)
        let stored = normalizer.record(
            from: FuzzChecks.call(path: path, request: bytes, response: bytes, contentType: "application/json"))
        FuzzChecks.checkRenders(stored)
    }
    return 0
}
