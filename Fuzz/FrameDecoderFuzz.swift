// libFuzzer target for the wire decoder; built outside SwiftPM by scripts/fuzz, against Sources/Protocol.
//
// For each input it checks that:
// - decoding never crashes, whatever the bytes (errors are `ProtocolError`s);
// - cutting the stream into chunks (sizes derived from the input) changes nothing: the same messages,
//   the same error, the same end-of-stream verdict as feeding it in one piece;
// - every decoded message re-encodes to a frame that decodes to an equal message, and that frame is
//   canonical: encoding the re-decoded message gives the same bytes again.
import LedgerProtocol

/// What a decoder made of a whole stream: its messages, then the error that stopped it, or the `finish()` verdict.
private struct DecodeOutcome: Equatable {
    var messages: [Message] = []
    var error: ProtocolError?
    var finishError: ProtocolError?
}

/// SplitMix64, seeded from the input, for chunk sizes.
private struct ChunkSizes {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Mostly tiny chunks (the interesting boundaries), sometimes large ones.
    mutating func nextSize() -> Int {
        let roll = next()
        return roll % 4 == 0 ? Int((roll >> 8) % 512) + 1 : Int((roll >> 8) % 8) + 1
    }
}

/// Small enough that inputs of a few KiB can exceed it.
private let maxFrameBytes = 1024

/// Decodes `bytes` in one append when `chunks` is nil, else in chunks of the sizes it draws.
private func decode(_ bytes: [UInt8], chunks: ChunkSizes?) -> DecodeOutcome {
    var chunks = chunks
    var decoder = FrameDecoder(maxFrameBytes: maxFrameBytes)
    var outcome = DecodeOutcome()
    var offset = 0
    while offset < bytes.count {
        var end = bytes.count
        if chunks != nil { end = min(end, offset + chunks!.nextSize()) }
        decoder.append(bytes[offset..<end])
        offset = end
        do {
            while let message = try decoder.next() { outcome.messages.append(message) }
        } catch {
            outcome.error = error
            return outcome
        }
    }
    do { try decoder.finish() } catch { outcome.finishError = error }
    return outcome
}

private func checkReencoding(_ message: Message) {
    let frame = message.encodedFrame()
    let again: Message
    do {
        again = try FrameDecoder.decodeSingle(frame, maxFrameBytes: Int(UInt32.max))
    } catch {
        preconditionFailure("re-encoded \(message.type) does not decode: \(error)")
    }
    precondition(again == message, "re-encoded \(message.type) decodes to a different message")
    precondition(again.encodedFrame() == frame, "re-encoded \(message.type) is not canonical")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrameDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var seed: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes { seed = (seed ^ UInt64(byte)) &* 0x100_0000_01b3 }

    let reference = decode(bytes, chunks: nil)
    let pieces = decode(bytes, chunks: ChunkSizes(state: seed))
    precondition(pieces == reference, "chunking changed the outcome: \(pieces) vs \(reference)")

    for message in reference.messages { checkReencoding(message) }
    return 0
}
