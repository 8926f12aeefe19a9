import Testing

@testable import Collector

/// Splitting captured event-stream bodies into events.
@Suite("Server-sent events")
struct SSEParserTests {
    static func events(_ text: String) -> [SSEEvent] {
        SSEParser.events(in: Array(text.utf8))
    }

    @Test func eventsAreSeparatedByBlankLinesWhateverTheLineEnding() {
        let expected = [SSEEvent(name: "a", data: "1"), SSEEvent(name: nil, data: "2")]
        #expect(Self.events("event: a\ndata: 1\n\ndata: 2\n\n") == expected)
        #expect(Self.events("event: a\r\ndata: 1\r\n\r\ndata: 2\r\n\r\n") == expected)
        #expect(Self.events("event: a\rdata: 1\r\rdata: 2\r\r") == expected)
        #expect(Self.events("event: a\ndata: 1\r\n\rdata: 2\n\n") == expected)
    }

    @Test func dataWithoutSpaceCommentsAndUnknownFields() {
        let text = ": OPENROUTER PROCESSING\n\nid: 7\nretry: 100\ndata:{\"x\":1}\n\n"
        #expect(Self.events(text) == [SSEEvent(name: nil, data: #"{"x":1}"#)])
        #expect(Self.events("data:  two spaces\n\n") == [SSEEvent(name: nil, data: " two spaces")])
    }

    @Test func multiLineDataIsJoinedWithNewline() {
        #expect(Self.events("data: first\ndata: second\ndata\n\n") == [SSEEvent(name: nil, data: "first\nsecond\n")])
    }

    @Test func aFinalEventWithoutBlankLineIsKept() {
        #expect(Self.events("data: 1\n\ndata: 2") == [SSEEvent(name: nil, data: "1"), SSEEvent(name: nil, data: "2")])
        #expect(
            Self.events("data: 1\n\ndata: 2\n") == [SSEEvent(name: nil, data: "1"), SSEEvent(name: nil, data: "2")])
    }

    @Test func eventsWithoutDataAreDropped() {
        #expect(Self.events("event: ping\n\n: comment\n\n").isEmpty)
        #expect(Self.events("").isEmpty)
        #expect(Self.events("\n\n\n").isEmpty)
    }

    @Test func byteOrderMarkAndMultibyteText() {
        #expect(Self.events("\u{FEFF}data: héllo ✓\n\n") == [SSEEvent(name: nil, data: "héllo ✓")])
    }

    @Test func doneMarker() {
        #expect(SSEEvent(name: nil, data: "[DONE]").isDoneMarker)
        #expect(SSEEvent(name: nil, data: " [DONE] ").isDoneMarker)
        #expect(!SSEEvent(name: nil, data: #"{"x":"[DONE]"}"#).isDoneMarker)
    }
}
