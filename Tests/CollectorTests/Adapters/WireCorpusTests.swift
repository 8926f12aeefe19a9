import Testing

@testable import Collector

/// Replays the golden wire corpus (`Tests/Fixtures/wire`) through the normalizer, and checks that reading a
/// stream never depends on where the network cut it into chunks.
@Suite("Golden wire corpus")
struct WireCorpusTests {
    @Test func theCorpusCoversEveryFormat() {
        let names = WireFixture.names
        #expect(names.count >= 15)
        for prefix in ["openai-chat-", "responses-", "anthropic-", "openrouter-", "litellm-", "vllm-"] {
            #expect(names.contains { $0.hasPrefix(prefix) }, "no fixture for \(prefix)")
        }
    }

    @Test(arguments: WireFixture.names)
    func fixtureGivesItsExpectedRecord(name: String) throws {
        let fixture = try WireFixture(name)
        let record = Normalizer().record(from: fixture.capturedCall)
        let problems = try fixture.mismatches(in: record)
        #expect(problems.isEmpty, "\(problems.joined(separator: "; "))")
    }

    @Test(arguments: WireFixture.names)
    func aStreamSplitAtAnyByteReadsTheSame(name: String) throws {
        let fixture = try WireFixture(name)
        guard fixture.isEventStream else { return }
        let adapter = ProviderRoute(path: fixture.path).adapter
        let body = fixture.response
        let events = SSEParser.events(in: body)
        let reading = adapter.readStream(events)
        #expect(!events.isEmpty)

        var differing: [Int] = []
        for split in 0...body.count {
            var parser = SSEParser()
            let pieces = parser.feed(body[..<split]) + parser.feed(body[split...]) + parser.finish()
            if pieces != events || adapter.readStream(pieces) != reading { differing.append(split) }
        }
        #expect(differing == [], "splits that changed the reading")

        var parser = SSEParser()
        var byteByByte: [SSEEvent] = []
        for index in body.indices { byteByByte += parser.feed(body[index..<index + 1]) }
        byteByByte += parser.finish()
        #expect(byteByByte == events)
    }
}
