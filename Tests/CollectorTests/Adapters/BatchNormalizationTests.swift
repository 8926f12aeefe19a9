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
        #expect(HeaderLookup.matches("Content-Type", "content-type"))
        #expect(HeaderLookup.matches("CONTENT-ENCODING", "content-encoding"))
        #expect(!HeaderLookup.matches("content-typ", "content-type"))
        #expect(!HeaderLookup.matches("content-types", "content-type"))
        // The Kelvin sign lower-cases to an ASCII "k".
        #expect(HeaderLookup.matches("\u{212A}eep", "keep"))
        #expect(!HeaderLookup.matches("cöntent-type", "content-type"))
        let headers = [
            HeaderField("X-Other", "1"), HeaderField("Content-Encoding", "gzip"), HeaderField("content-encoding", "br"),
        ]
        #expect(HeaderLookup.value(of: "content-encoding", in: headers) == "gzip")
        #expect(HeaderLookup.value(of: "content-type", in: headers) == nil)
    }

    @Test func substringsOfASCIIHeaderValues() {
        #expect(HeaderLookup.asciiContains("text/event-stream; charset=utf-8", "text/event-stream") == true)
        #expect(HeaderLookup.asciiContains("application/json", "json") == true)
        #expect(HeaderLookup.asciiContains("application/jso", "json") == false)
        #expect(HeaderLookup.asciiContains("", "json") == false)
        #expect(HeaderLookup.asciiContains("application/jsön", "json") == nil)
    }
}
