import Foundation
import LedgerProtocol

@testable import Collector

/// One golden capture of `Tests/Fixtures/wire/<name>/`: the request, the provider's raw response bytes, how the
/// upstream answered (`upstream.json`: status, headers, a connection dropped mid-body) and the expected record.
///
/// The path comes from the name: `anthropic-*` is `/v1/messages`, `responses-*` is `/v1/responses`, anything
/// else `/v1/chat/completions` (see the corpus README).
struct WireFixture: CustomStringConvertible {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/wire")

    /// Every fixture directory, sorted.
    static let names: [String] = {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return entries.filter { name in
            FileManager.default.fileExists(atPath: root.appendingPathComponent("\(name)/expected.json").path)
        }.sorted()
    }()

    let name: String
    let request: [UInt8]
    let response: [UInt8]
    let isEventStream: Bool
    let status: Int
    let headers: [String: String]
    let disconnects: Bool
    let expected: JSONValue

    var description: String { name }

    var path: String {
        if name.hasPrefix("anthropic-") { return "/v1/messages" }
        if name.hasPrefix("responses-") { return "/v1/responses" }
        return "/v1/chat/completions"
    }

    init(_ name: String) throws {
        let directory = Self.root.appendingPathComponent(name)
        func bytes(_ file: String) -> [UInt8]? {
            (try? Data(contentsOf: directory.appendingPathComponent(file))).map(Array.init)
        }
        self.name = name
        request = bytes("request.json") ?? []
        if let sse = bytes("response.sse") {
            response = sse
            isEventStream = true
        } else {
            response = bytes("response.json") ?? []
            isEventStream = false
        }
        expected = try JSONReader.parse(bytes("expected.json") ?? [])
        let upstream = try bytes("upstream.json").map { try JSONReader.parse($0) } ?? .object([:])
        status = upstream["status"]?.intValue ?? 200
        disconnects = upstream["disconnect"]?.boolValue ?? false
        headers = (upstream["headers"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
    }

    /// The call as the sidecar would ship it after forwarding these bytes.
    var capturedCall: CapturedCall {
        var responseHeaders = [HeaderField("content-type", isEventStream ? "text/event-stream" : "application/json")]
        responseHeaders += headers.sorted { $0.key < $1.key }.map { HeaderField($0.key, $0.value) }
        return CapturedCall(
            actionID: "0193a5b0-0000-7000-8000-0000000000aa", arrivedAtMicros: 1_790_000_000_000_000, method: "POST",
            path: path, source: "corpus", metadata: CallMetadata(sessionID: "corpus"),
            requestHeaders: [HeaderField("content-type", "application/json")], requestBody: request,
            statusCode: UInt16(status), responseHeaders: responseHeaders, responseBody: response,
            firstByteMicros: 1_000, completedMicros: 2_000, outcome: disconnects ? .upstreamFailed : .completed,
            outcomeDetail: disconnects ? "upstream failed mid-response: connection reset by peer" : nil)
    }

    /// The mismatches between a record's JSON and `expected.json`, empty when they agree on every listed field.
    func mismatches(in record: CallRecord) throws -> [String] {
        let json = try JSONReader.parse(Array(JSONEncoder().encode(record)))
        var problems: [String] = []
        for (key, want) in expected.objectValue ?? [:] {
            let got: JSONValue?
            switch key {
            case "messages_count":
                got = .int(Int64(record.messages.count))
            case "error_detail_contains":
                let detail = record.errorDetail ?? ""
                if let fragment = want.stringValue, !detail.contains(fragment) {
                    problems.append("error_detail \(detail.debugDescription) lacks \(fragment.debugDescription)")
                }
                continue
            case "tool_results":
                got = json[key].map(Self.withoutLinks)
            default:
                got = json[key]
            }
            if got != want {
                problems.append("\(key): want \(JSONWriter.text(of: want)), got \(got.map(JSONWriter.text) ?? "absent")")
            }
        }
        return problems.sorted()
    }

    /// Tool results with only `tool_call_id` and `content`, the fields a capture decides.
    private static func withoutLinks(_ results: JSONValue) -> JSONValue {
        guard let list = results.arrayValue else { return results }
        return .array(
            list.map { result in
                .object(["tool_call_id": result["tool_call_id"] ?? .null, "content": result["content"] ?? .null])
            })
    }
}
