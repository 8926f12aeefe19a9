// Writes the seed corpus of the records fuzz target (Fuzz/corpus/records/): RECORDS payloads (docs/protocol.md)
// holding the calls of Tests/Fixtures/wire, plus calls at the edges of each field's range. Built with the
// protocol's sources as one module, without sanitizers:
//
//   swiftc -O -parse-as-library -package-name agentledger Sources/Protocol/*.swift \
//       Fuzz/Tools/MakeRecordSeeds.swift -o /tmp/make-record-seeds && /tmp/make-record-seeds
import Foundation

/// Generates one payload per fixture and per edge case.
@main
enum MakeRecordSeeds {
    static let fixtures = URL(fileURLWithPath: "Tests/Fixtures/wire")
    static let output = URL(fileURLWithPath: "Fuzz/corpus/records")

    static func main() throws {
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        var all: [CapturedCall] = []
        let names = try FileManager.default.contentsOfDirectory(atPath: fixtures.path).sorted()
        for name in names {
            let call = try fixtureCall(name)
            all.append(call)
            try write([call], as: name)
        }
        try write(Array(all.prefix(4)), as: "batch-of-four")
        for (name, call) in edgeCases(base: all[0]) { try write([call], as: "edge-\(name)") }
    }

    static func path(for name: String) -> String {
        if name.hasPrefix("anthropic") { return "/v1/messages" }
        if name.hasPrefix("responses") { return "/v1/responses" }
        return "/v1/chat/completions"
    }

    static func fixtureCall(_ name: String) throws -> CapturedCall {
        let directory = fixtures.appendingPathComponent(name)
        let request = try Data(contentsOf: directory.appendingPathComponent("request.json"))
        let sse = directory.appendingPathComponent("response.sse")
        let isStream = FileManager.default.fileExists(atPath: sse.path)
        let response = try Data(
            contentsOf: isStream ? sse : directory.appendingPathComponent("response.json"))
        var status: UInt16 = 200
        let upstream = directory.appendingPathComponent("upstream.json")
        if let data = try? Data(contentsOf: upstream),
            let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let code = object["status"] as? Int
        {
            status = UInt16(code)
        }
        return CapturedCall(
            actionID: "act-\(name)", arrivedAtMicros: 1_764_950_000_000_000, method: "POST", path: path(for: name),
            source: "seed", metadata: CallMetadata(sessionID: "s-\(name)", agentName: "seeder", environment: "test"),
            requestHeaders: [HeaderField("content-type", "application/json")], requestBody: Array(request),
            statusCode: status,
            responseHeaders: [HeaderField("content-type", isStream ? "text/event-stream" : "application/json")],
            responseBody: Array(response), firstByteMicros: 120_000, completedMicros: 450_000)
    }

    static func edgeCases(base: CapturedCall) -> [(String, CapturedCall)] {
        var cases: [(String, CapturedCall)] = []
        func edge(_ name: String, _ change: (inout CapturedCall) -> Void) {
            var call = base
            change(&call)
            cases.append((name, call))
        }
        edge("times-max") {
            $0.arrivedAtMicros = .max
            $0.completedMicros = .max
            $0.firstByteMicros = .max
        }
        edge("times-min") {
            $0.arrivedAtMicros = .min
            $0.completedMicros = .min
            $0.firstByteMicros = .min
        }
        edge("status-zero") { $0.statusCode = 0 }
        edge("status-max") { $0.statusCode = .max }
        edge("no-status") { $0.statusCode = nil }
        edge("gzip") { $0.responseHeaders.append(HeaderField("content-encoding", "gzip")) }
        edge("truncated") {
            $0.requestBodyTruncated = true
            $0.responseBodyTruncated = true
            $0.responseBody = Array($0.responseBody.prefix($0.responseBody.count / 2))
        }
        for outcome in CallOutcome.allCases { edge("outcome-\(outcome)") { $0.outcome = outcome } }
        edge("usage-huge") {
            $0.responseBody = Array(
                #"{"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":9223372036854775807,"completion_tokens":1e300}}"#
                    .utf8)
        }
        edge("usage-negative") {
            $0.responseBody = Array(#"{"model":"gpt-4o","usage":{"prompt_tokens":-1000000000000}}"#.utf8)
        }
        return cases
    }

    /// The payload of a RECORDS frame: the encoded frame without its length and header.
    static func write(_ calls: [CapturedCall], as name: String) throws {
        let frame = Message.records(Records(batchID: 7, calls: calls)).encodedFrame()
        try Data(frame.dropFirst(6)).write(to: output.appendingPathComponent("\(name).bin"))
    }
}
