import Foundation
import NIOCore

/// Removes from an OpenAI chat stream what only `include_usage` added: the final chunk with empty
/// `choices` and a `usage` object, and the `"usage":null` member of every other chunk.
///
/// Works on whole SSE events: bytes of an event that has not ended yet are held until its blank line
/// arrives (the agent could not act on half an event anyway); complete events pass at once, unchanged
/// unless they carry usage. The result does not depend on how the upstream split its writes.
struct UsageChunkFilter: Sendable {
    private var pending: [UInt8] = []
    /// Bytes of `pending` already searched for an event end, so a long event is scanned once.
    private var scanned = 0
    private static let usageNull = [Array(#","usage":null"#.utf8), Array(#", "usage": null"#.utf8)]
    private static let usageKey = Array(#""usage""#.utf8)

    /// Feeds upstream bytes; returns the bytes to send to the agent now (possibly none).
    mutating func process(_ chunk: ByteBuffer) -> [UInt8] {
        pending.append(contentsOf: chunk.readableBytesView)
        var output: [UInt8] = []
        var start = 0
        while let end = Self.eventEnd(in: pending, from: start, scannedUpTo: scanned) {
            Self.emit(pending[start..<end], into: &output)
            start = end
        }
        pending.removeFirst(start)
        // The last two bytes may begin a blank line completed by the next chunk.
        scanned = max(0, pending.count - 2)
        return output
    }

    /// End of stream: whatever is held goes out as it is.
    mutating func finish() -> [UInt8] {
        defer {
            pending = []
            scanned = 0
        }
        var output: [UInt8] = []
        if !pending.isEmpty { Self.emit(pending[...], into: &output) }
        return output
    }

    /// The index just past the blank line that ends the event starting at `start`, if it has arrived.
    static func eventEnd(in bytes: [UInt8], from start: Int, scannedUpTo scanned: Int = 0) -> Int? {
        var index = max(start, scanned)
        while index < bytes.count {
            if bytes[index] == 0x0A {
                if index + 1 < bytes.count && bytes[index + 1] == 0x0A { return index + 2 }
                if index + 2 < bytes.count && bytes[index + 1] == 0x0D && bytes[index + 2] == 0x0A { return index + 3 }
            }
            index += 1
        }
        return nil
    }

    private static func emit(_ event: ArraySlice<UInt8>, into output: inout [UInt8]) {
        guard ByteSearch.firstRange(of: usageKey, in: event) != nil else {
            output.append(contentsOf: event)
            return
        }
        if isUsageOnlyChunk(event) { return }
        var rest = event
        while let range = usageNull.compactMap({ ByteSearch.firstRange(of: $0, in: rest) }).min(by: {
            $0.lowerBound < $1.lowerBound
        }) {
            output.append(contentsOf: rest[..<range.lowerBound])
            rest = rest[range.upperBound...]
        }
        output.append(contentsOf: rest)
    }

    /// A `data:` event whose JSON has an empty `choices` array and a `usage` object.
    private static func isUsageOnlyChunk(_ event: ArraySlice<UInt8>) -> Bool {
        guard let text = String(validating: event, as: UTF8.self) else { return false }
        for line in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            guard line.hasPrefix("data:") else { continue }
            let payload = line.dropFirst(5).drop { $0 == " " }
            guard let object = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any],
                let choices = object["choices"] as? [Any], choices.isEmpty, object["usage"] is [String: Any]
            else { return false }
            return true
        }
        return false
    }
}
