/// One server-sent event: its `event:` name, if any, and its `data:` lines joined with newlines.
struct SSEEvent: Sendable, Equatable {
    var name: String?
    var data: String

    /// OpenAI's `data: [DONE]`, the end of a stream.
    var isDoneMarker: Bool {
        data.utf8.count < 16 && data.filter { !$0.isWhitespace } == "[DONE]"
    }
}

/// Splits a whole captured `text/event-stream` body into events, line by line as the SSE specification reads it.
///
/// Lines end in LF, CRLF or CR; a blank line ends an event; `data:` may or may not be followed by a space;
/// comment lines (`:`) and unknown fields are skipped. A last event without its blank line (a stream that
/// ended early) is still returned, so a truncated capture yields every event that arrived whole.
enum SSEParser {
    static func events(in body: [UInt8]) -> [SSEEvent] {
        var events: [SSEEvent] = []
        var name: String?
        var dataLines: [String] = []

        func dispatch() {
            if !dataLines.isEmpty {
                events.append(SSEEvent(name: name, data: dataLines.joined(separator: "\n")))
            }
            name = nil
            dataLines.removeAll(keepingCapacity: true)
        }

        body.withUnsafeBufferPointer { bytes in
            let start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
            var lineStart = start
            var index = start
            while index <= bytes.count {
                let atEnd = index == bytes.count
                if !atEnd, bytes[index] != 0x0A, bytes[index] != 0x0D {
                    index += 1
                    continue
                }
                let line = UnsafeBufferPointer(rebasing: bytes[lineStart..<index])
                if line.isEmpty {
                    if !atEnd { dispatch() }
                } else {
                    readField(line, name: &name, dataLines: &dataLines)
                }
                if atEnd { break }
                if bytes[index] == 0x0D, index + 1 < bytes.count, bytes[index + 1] == 0x0A { index += 1 }
                index += 1
                lineStart = index
            }
        }
        dispatch()
        return events
    }

    private static func readField(_ line: UnsafeBufferPointer<UInt8>, name: inout String?, dataLines: inout [String]) {
        if line[0] == UInt8(ascii: ":") { return }
        let colon = line.firstIndex(of: UInt8(ascii: ":")) ?? line.count
        let field = String(decoding: UnsafeBufferPointer(rebasing: line[0..<colon]), as: UTF8.self)
        var valueStart = min(colon + 1, line.count)
        if valueStart < line.count, line[valueStart] == UInt8(ascii: " ") { valueStart += 1 }
        let value = String(decoding: UnsafeBufferPointer(rebasing: line[valueStart..<line.count]), as: UTF8.self)
        switch field {
        case "data": dataLines.append(value)
        case "event": name = value
        default: break
        }
    }
}
