import LedgerProtocol

// libFuzzer target: the record decoder into the store path; built by scripts/fuzz against Sources/Protocol and
// the pure part of Sources/Collector.
//
// The input is a RECORDS payload (docs/protocol.md: batch id, count, length-prefixed records). For each input
// it checks that decoding never traps, and that every call it yields becomes a record, as the collector makes
// them (`Normalizer.records(from:)`, the source replaced by the link's), that renders as JSON with JSON columns.
// What the collector does before normalizing and this target leaves out: `ContentDecoding` (it needs
// CompressNIO), so encoded bodies are read as they came.
@testable import Collector

private let normalizer = Normalizer()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRecords(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard case .records(let records)? = try? Message.decode(type: .records, payload: bytes[...]) else { return 0 }
    var calls = records.calls
    for index in calls.indices { calls[index].source = "fuzz-link" }
    var tally = Normalizer.Tally()
    let stored = normalizer.records(from: calls, tally: &tally)
    precondition(stored.count == calls.count, "\(calls.count) calls gave \(stored.count) records")
    for record in stored {
        precondition(record.source == "fuzz-link", "a record kept its own source")
        FuzzChecks.checkRenders(record)
    }
    return 0
}
