import LedgerProtocol
import Testing

@testable import Collector

/// The ingest path normalizes a batch at once, sharing route and price lookups between its calls: that must give
/// the records one call at a time gives, and header lookups must answer as Unicode lower-casing does.
struct BatchNormalizationTests {
    @Test func theCorpusAsOneBatchGivesEachCallsOwnRecord() throws {
        let calls = try WireFixture.names.map { try WireFixture($0).capturedCall }
        let normalizer = Normalizer()
        let batch = normalizer.records(from: calls + calls.reversed())
        #expect(batch == (calls + calls.reversed()).map(normalizer.record(from:)))
    }

    @Test func headerNamesMatchAsLowerCasingWould() {
        #expect(HeaderField("Content-Type", "").hasName("content-type"))
        #expect(HeaderField("CONTENT-ENCODING", "").hasName("content-encoding"))
        #expect(!HeaderField("content-typ", "").hasName("content-type"))
        #expect(!HeaderField("content-types", "").hasName("content-type"))
        // The Kelvin sign lower-cases to an ASCII "k".
        #expect(HeaderField("\u{212A}eep", "").hasName("keep"))
        #expect(!HeaderField("cöntent-type", "").hasName("content-type"))
        let headers = [
            HeaderField("X-Other", "1"), HeaderField("Content-Encoding", "gzip"), HeaderField("content-encoding", "br"),
        ]
        var call = CapturedCall(actionID: "a", arrivedAtMicros: 0, method: "POST", path: "/v1/chat/completions", source: "s")
        call.responseHeaders = headers
        #expect(call.responseHeader("content-encoding") == "gzip")
        #expect(call.responseHeader("content-type") == nil)
    }

    @Test func anEventStreamIsToldByItsContentTypeWhateverItsCase() {
        let normalizer = Normalizer()
        func stream(_ contentType: String) -> Bool {
            var call = CapturedCall(
                actionID: "a", arrivedAtMicros: 0, method: "POST", path: "/v1/chat/completions", source: "s")
            call.requestBody = Array(#"{"model":"gpt-4o","messages":[]}"#.utf8)
            call.responseHeaders = [HeaderField("Content-Type", contentType)]
            call.responseBody = Array("data: [DONE]\n\n".utf8)
            return normalizer.record(from: call).stream
        }
        #expect(stream("text/event-stream; charset=utf-8"))
        #expect(stream("TEXT/EVENT-STREAM"))
        #expect(!stream("application/json"))
        #expect(stream("text/évent-stream; x=text/event-stream"))
    }
}
