// libFuzzer target: the SSE parser and the stream assemblers (OpenAI chat, Responses, Anthropic) on arbitrary
// bytes; built by scripts/fuzz against the pure part of Sources/Collector and Sources/Protocol.
//
// For each input it checks that:
// - `SSEParser` gives the same events whatever way the bytes are cut into chunks (sizes drawn from the input);
// - each adapter assembles the events without trapping, and the tool calls' JSON stays JSON;
// - the collector's whole path, `Normalizer.record(from:)` with the input as a `text/event-stream` response,
//   gives a record that renders as JSON.
@testable import Collector

private let normalizer = Normalizer()

/// SplitMix64, seeded from the input, for chunk sizes.
private struct ChunkSizes {
    var state: UInt64

    mutating func next() -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return z % 4 == 0 ? Int((z >> 8) % 256) + 1 : Int((z >> 8) % 4) + 1
    }
}

private func eventsInChunks(_ bytes: [UInt8]) -> [SSEEvent] {
    var seed: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes { seed = (seed ^ UInt64(byte)) &* 0x100_0000_01b3 }
    var sizes = ChunkSizes(state: seed)
    var parser = SSEParser()
    var events: [SSEEvent] = []
    var offset = 0
    while offset < bytes.count {
        let end = min(bytes.count, offset + sizes.next())
        events += parser.feed(bytes[offset..<end])
        offset = end
    }
    return events + parser.finish()
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSSEStreams(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let events = SSEParser.events(in: bytes)
    precondition(eventsInChunks(bytes) == events, "chunking changed the events")
    for (route, path) in FuzzChecks.routes {
        _ = route.adapter.readStream(events)
        let stored = normalizer.record(
            from: FuzzChecks.call(path: path, request: [], response: bytes, contentType: "text/event-stream"))
        FuzzChecks.checkRenders(stored)
    }
    return 0
}
