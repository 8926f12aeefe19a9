import Testing

@testable import Collector

/// Reading an event stream chunk by chunk gives the events of the whole body, wherever the chunks were cut.
@Suite("Server-sent events, chunk by chunk")
struct SSEParserChunkTests {
    static let body = Array("\u{FEFF}event: a\r\ndata: é1\r\n\r\n: note\rdata: 2\r\rdata: 3\ndata: 4\n\ndata: last".utf8)

    static func chunked(_ body: [UInt8], at cuts: [Int]) -> [SSEEvent] {
        var parser = SSEParser()
        var events: [SSEEvent] = []
        var start = 0
        for cut in cuts + [body.count] {
            events += parser.feed(body[start..<cut])
            start = cut
        }
        return events + parser.finish()
    }

    @Test func everyTwoAndThreeWaySplitGivesTheWholeBodysEvents() {
        let whole = SSEParser.events(in: Self.body)
        #expect(
            whole == [
                SSEEvent(name: "a", data: "é1"), SSEEvent(name: nil, data: "2"), SSEEvent(name: nil, data: "3\n4"),
                SSEEvent(name: nil, data: "last"),
            ])
        for first in 0...Self.body.count {
            #expect(Self.chunked(Self.body, at: [first]) == whole, "split at \(first)")
            for second in first...Self.body.count where second % 3 == 0 {
                #expect(Self.chunked(Self.body, at: [first, second]) == whole, "split at \(first), \(second)")
            }
        }
    }

    @Test func aCRAtTheEndOfAChunkAndAnLFStartingTheNextAreOneLineEnd() {
        var parser = SSEParser()
        #expect(parser.feed(Array("data: 1\r".utf8)) == [])
        #expect(parser.feed(Array("\n\r".utf8)) == [SSEEvent(name: nil, data: "1")])
        #expect(parser.feed(Array("\ndata: 2\r".utf8)) == [])
        #expect(parser.feed(Array("\r".utf8)) == [SSEEvent(name: nil, data: "2")])
        #expect(parser.finish() == [])
    }

    @Test func eventsAreReturnedAsSoonAsTheirBlankLineArrives() {
        var parser = SSEParser()
        #expect(parser.feed(Array("data: 1\n".utf8)) == [])
        #expect(parser.feed(Array("\ndata: 2".utf8)) == [SSEEvent(name: nil, data: "1")])
        #expect(parser.finish() == [SSEEvent(name: nil, data: "2")])
    }
}
