/// One server-sent event: its `event:` name, if any, and its `data:` lines joined with newlines.
struct SSEEvent: Sendable, Equatable {
    var name: String?
    var data: String

    /// OpenAI's `data: [DONE]`, the end of a stream.
    var isDoneMarker: Bool {
        data.utf8.count < 16 && data.filter { !$0.isWhitespace } == "[DONE]"
    }
}

/// Splits a `text/event-stream` body into events, line by line as the SSE specification reads it, whatever
/// way the bytes were cut into chunks.
///
/// Lines end in LF, CRLF or CR (a CR ending one chunk and an LF starting the next are one line end); a blank
/// line ends an event; `data:` may or may not be followed by a space; comment lines (`:`) and unknown fields
/// are skipped; a leading byte-order mark is dropped. A last event without its blank line (a stream that ended
/// early) is still returned by `finish()`, so a truncated capture yields every event that arrived whole.
struct SSEParser {
    /// The event being read: its name and data lines so far.
    private struct PendingEvent {
        var name: String?
        var dataLines: [String] = []
    }

    private var partialLine: [UInt8] = []
    private var pending = PendingEvent()
    private var afterCR = false
    private var readFirstLine = false

    init() {}

    /// Every event of a whole captured body.
    static func events(in body: [UInt8]) -> [SSEEvent] {
        var parser = SSEParser()
        return parser.feed(body[...]) + parser.finish()
    }

    /// Reads the next bytes of the stream; returns the events they completed.
    mutating func feed(_ chunk: ArraySlice<UInt8>) -> [SSEEvent] {
        var events: [SSEEvent] = []
        var partialLine = self.partialLine
        var pending = self.pending
        var afterCR = self.afterCR
        var readFirstLine = self.readFirstLine
        chunk.withUnsafeBufferPointer { bytes in
            var index = 0
            if afterCR, !bytes.isEmpty {
                if bytes[0] == 0x0A { index = 1 }
                afterCR = false
            }
            var lineStart = index
            while index < bytes.count {
                let byte = bytes[index]
                guard byte == 0x0A || byte == 0x0D else {
                    index += 1
                    continue
                }
                let piece = UnsafeBufferPointer(rebasing: bytes[lineStart..<index])
                if partialLine.isEmpty {
                    Self.endLine(piece, isFirst: !readFirstLine, pending: &pending, events: &events)
                } else {
                    partialLine.append(contentsOf: piece)
                    partialLine.withUnsafeBufferPointer { line in
                        Self.endLine(line, isFirst: !readFirstLine, pending: &pending, events: &events)
                    }
                    partialLine.removeAll(keepingCapacity: true)
                }
                readFirstLine = true
                index += 1
                if byte == 0x0D {
                    if index == bytes.count {
                        afterCR = true
                    } else if bytes[index] == 0x0A {
                        index += 1
                    }
                }
                lineStart = index
            }
            partialLine.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[lineStart..<bytes.count]))
        }
        self.partialLine = partialLine
        self.pending = pending
        self.afterCR = afterCR
        self.readFirstLine = readFirstLine
        return events
    }

    mutating func feed(_ chunk: [UInt8]) -> [SSEEvent] {
        feed(chunk[...])
    }

    /// Ends the stream: an unterminated last line and event still count.
    mutating func finish() -> [SSEEvent] {
        var events: [SSEEvent] = []
        var pending = self.pending
        let isFirst = !readFirstLine
        partialLine.withUnsafeBufferPointer { line in
            if !line.isEmpty { Self.readField(Self.droppingBOM(line, isFirst: isFirst), pending: &pending) }
        }
        Self.dispatch(&pending, into: &events)
        self = SSEParser()
        return events
    }

    private static func endLine(
        _ line: UnsafeBufferPointer<UInt8>, isFirst: Bool, pending: inout PendingEvent, events: inout [SSEEvent]
    ) {
        let line = droppingBOM(line, isFirst: isFirst)
        if line.isEmpty {
            dispatch(&pending, into: &events)
        } else {
            readField(line, pending: &pending)
        }
    }

    private static func droppingBOM(_ line: UnsafeBufferPointer<UInt8>, isFirst: Bool) -> UnsafeBufferPointer<UInt8> {
        guard isFirst, line.starts(with: [0xEF, 0xBB, 0xBF]) else { return line }
        return UnsafeBufferPointer(rebasing: line[3...])
    }

    private static func dispatch(_ pending: inout PendingEvent, into events: inout [SSEEvent]) {
        if !pending.dataLines.isEmpty {
            events.append(SSEEvent(name: pending.name, data: pending.dataLines.joined(separator: "\n")))
        }
        pending = PendingEvent()
    }

    private static func readField(_ line: UnsafeBufferPointer<UInt8>, pending: inout PendingEvent) {
        guard let first = line.first, first != UInt8(ascii: ":") else { return }
        let colon = line.firstIndex(of: UInt8(ascii: ":")) ?? line.count
        let field = String(decoding: UnsafeBufferPointer(rebasing: line[0..<colon]), as: UTF8.self)
        var valueStart = min(colon + 1, line.count)
        if valueStart < line.count, line[valueStart] == UInt8(ascii: " ") { valueStart += 1 }
        let value = String(decoding: UnsafeBufferPointer(rebasing: line[valueStart..<line.count]), as: UTF8.self)
        switch field {
        case "data": pending.dataLines.append(value)
        case "event": pending.name = value
        default: break
        }
    }
}
