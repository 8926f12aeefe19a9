#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The sidecar's durable buffer: every captured call is appended here before the agent's response ends,
/// so neither a dead collector nor a killed sidecar loses it.
///
/// Segment files (`segment-<id>.spool`) hold records of `u32 length, u32 CRC-32, payload` (the call's
/// encoded fields). A read cursor marks what has been loaded into memory for sending; a segment is deleted
/// once it is sealed and all its records are acknowledged. Over `maxBytes` the oldest segments are dropped
/// and their records counted. Not thread-safe: the `Shipper` uses it under its lock.
///
/// Every record read is checked against its CRC, at start-up and when it is loaded for sending: a record that fails
/// (bit rot, a torn write recovery did not see) is never handed out; it is skipped with the bytes up to the next whole
/// record, and reported (`takeCorruptions()`).
///
/// A failed append (a full disk, EIO, a short write) is rolled back to the size before it; if even that fails, the
/// segment is sealed at its last whole record and the next append starts a new one (docs/operations.md, "Spool").
package final class Spool {
    package struct Configuration: Sendable {
        /// `AGENTLEDGER_SPOOL_DIR`. Default `./agentledger-spool`.
        package var directory: String
        /// `AGENTLEDGER_SPOOL_MAX_MB` in bytes. Default 512 MiB.
        package var maxBytes: Int = 512 << 20
        /// Size at which a segment is sealed and a new one begun. Default 8 MiB (less for small bounds).
        package var segmentBytes: Int = 8 << 20
        /// The calls that write and truncate segments; tests replace them to fail as a full disk does.
        var systemCalls = SpoolFile.SystemCalls()

        package init(directory: String, maxBytes: Int = 512 << 20) {
            self.directory = directory
            self.maxBytes = maxBytes
            segmentBytes = max(64 << 10, min(8 << 20, maxBytes / 8))
        }
    }

    /// Records removed to keep the spool within its bound.
    package struct Dropped: Equatable, Sendable {
        package var segment: UInt64
        /// The segment's records not acknowledged: those still in the caller's memory included.
        package var records: Int

        package init(segment: UInt64, records: Int) {
            self.segment = segment
            self.records = records
        }
    }

    /// Bytes found corrupt while loading records, skipped so that delivery goes on.
    package struct Corruption: Equatable, Sendable {
        package var segment: UInt64
        package var path: String
        /// Where the corrupt bytes begin in the segment file.
        package var offset: Int
        /// Bytes skipped from `offset`: up to the next whole record, or to the end of what was appended.
        package var bytes: Int
        /// Records lost with them (never loaded, so never sent).
        package var records: Int
    }

    struct Segment {
        var id: UInt64
        var path: String
        var size: Int
        var records: Int
        var acknowledged = 0
        /// Records the cursor has passed: loaded into memory, or counted as the caller's (`markLoadedToEnd`).
        var consumed = 0
        var reader: SpoolFile?
        /// Byte ranges of torn records that recovery (or a load that met a corrupt record) found between whole ones,
        /// in order; the reader skips them.
        var holes: [Range<Int>] = []
    }

    static let magic = Array("ALSPOOL1".utf8)
    static let recordHeaderBytes = 8
    static let maxRecordBytes = 256 << 20
    static let readChunkBytes = 1 << 20

    package let configuration: Configuration
    private var segments: [Segment] = []
    private var writer: SpoolFile
    /// The next record to load: an index into `segments` and a byte offset in it.
    private var cursor: (index: Int, offset: Int)
    private var dirty = false
    /// The active segment takes no more records (full, or torn bytes after its last record): the next append
    /// starts a new segment first.
    private var sealed = false
    /// Descriptors of sealed segments not yet flushed to the disk.
    private var sealedUnsynced: [Int32] = []
    package private(set) var totalBytes = 0
    /// Records found intact at start-up, to be replayed.
    package private(set) var recoveredRecords = 0
    /// Bytes of torn records found at start-up: cut from segment tails or skipped between whole records.
    package private(set) var truncatedBytes = 0
    /// Appends that failed and were undone.
    package private(set) var failedAppends = 0
    /// Corrupt bytes met by loads since `takeCorruptions()` was last called.
    private var corruptions: [Corruption] = []

    /// Opens the spool, creating the directory, recovering existing segments and starting a fresh one.
    package init(configuration: Configuration) throws(SpoolError) {
        self.configuration = configuration
        try Self.makeDirectory(configuration.directory)
        var recovered: [Segment] = []
        var truncated = 0
        for (id, path) in try Self.segmentFiles(in: configuration.directory) {
            let (segment, cut) = try Self.recover(id: id, path: path, calls: configuration.systemCalls)
            truncated += cut
            if segment.records == 0 {
                unlink(path)
            } else {
                recovered.append(segment)
            }
        }
        let nextID = (recovered.last?.id ?? 0) + 1
        let path = Self.path(configuration.directory, nextID)
        writer = try Self.createSegment(path, directory: configuration.directory, calls: configuration.systemCalls)
        segments = recovered + [Segment(id: nextID, path: path, size: Self.magic.count, records: 0)]
        cursor = (0, Self.magic.count)
        totalBytes = segments.reduce(0) { $0 + $1.size }
        recoveredRecords = recovered.reduce(0) { $0 + $1.records }
        truncatedBytes = truncated
    }

    deinit {
        for descriptor in sealedUnsynced { _ = close(descriptor) }
        writer.close()
        for segment in segments { segment.reader?.close() }
    }

    /// Whether records on disk are not yet loaded into memory.
    package var hasUnloaded: Bool {
        cursor.index < segments.count - 1 || cursor.offset < segments[segments.count - 1].size
    }

    /// Appends one record. Returns its segment and whatever had to be dropped to stay within the bound.
    ///
    /// On failure nothing of the record stays readable: the bytes written are truncated away, or, when the truncation
    /// fails too, the segment is sealed at its last whole record so nothing is ever written after the torn bytes.
    package func append(_ payload: [UInt8]) throws(SpoolError) -> (segment: UInt64, dropped: [Dropped]) {
        guard payload.count <= Self.maxRecordBytes, !payload.isEmpty else {
            throw SpoolError.io("append a record of \(payload.count) bytes to", configuration.directory, EINVAL)
        }
        if sealed {
            do {
                try rotate()
            } catch {
                failedAppends += 1
                throw error
            }
        }
        let last = segments.count - 1
        do {
            try writer.write(header: UInt64(UInt32(payload.count)) << 32 | UInt64(CRC32.checksum(payload)), payload: payload)
        } catch {
            failedAppends += 1
            rollBack(to: segments[last].size)
            throw error
        }
        dirty = true
        let size = Self.recordHeaderBytes + payload.count
        segments[last].size += size
        segments[last].records += 1
        totalBytes += size
        let segment = segments[last].id
        if segments[last].size >= configuration.segmentBytes {
            // The record is written: a new segment that cannot be made yet is retried by the next append.
            sealed = true
            try? rotate()
        }
        return (segment, dropOldestBeyondBound())
    }

    /// Undoes a failed append: cuts the active segment back to `size`, or seals it there when the cut fails.
    private func rollBack(to size: Int) {
        do {
            try writer.truncate(to: size)
        } catch {
            sealed = true
            try? rotate()
        }
    }

    /// Everything appended so far counts as loaded (the caller queued the newest record in memory itself).
    package func markLoadedToEnd() {
        for index in cursor.index..<segments.count { segments[index].consumed = segments[index].records }
        cursor = (segments.count - 1, segments[segments.count - 1].size)
    }

    /// The corrupt bytes loads have met and skipped since the last call, for the caller to count and log once each.
    package func takeCorruptions() -> [Corruption] {
        defer { corruptions.removeAll() }
        return corruptions
    }

    /// Reads records after the cursor, up to about `maxBytes`, and moves the cursor past them. Whole records are read
    /// a chunk of up to `readChunkBytes` at a time; a record larger than that is read alone.
    package func loadNext(maxBytes: Int) throws(SpoolError) -> [(segment: UInt64, payload: [UInt8])] {
        var loaded: [(segment: UInt64, payload: [UInt8])] = []
        try loadNext(maxBytes: maxBytes, into: &loaded)
        return loaded
    }

    /// As `loadNext(maxBytes:)`, appending to `loaded`. On a failure, `loaded` keeps the records read before it and the
    /// cursor stays on the first record not read: nothing is skipped, and the next call tries that record again.
    ///
    /// A record is loaded only when its header is plausible and its payload matches its CRC. One that is not (the bytes
    /// were read, and are wrong) is skipped, not retried: see `skipCorrupt()`.
    package func loadNext(maxBytes: Int, into loaded: inout [(segment: UInt64, payload: [UInt8])]) throws(SpoolError) {
        var bytes = 0
        while bytes < maxBytes && hasUnloaded {
            let segment = segments[cursor.index]
            if let hole = segment.holes.first(where: { $0.contains(cursor.offset) }) {
                cursor.offset = hole.upperBound
                continue
            }
            if cursor.offset >= segment.size {
                segments[cursor.index].reader?.close()
                segments[cursor.index].reader = nil
                cursor = (cursor.index + 1, Self.magic.count)
                continue
            }
            // Whole records run up to the next hole, or the end of what was appended.
            let end = segment.holes.first { $0.lowerBound > cursor.offset }?.lowerBound ?? segment.size
            let start = cursor.offset
            let reader = try reader(at: cursor.index)
            let chunk = try reader.read(count: min(end - start, Self.readChunkBytes), at: start)
            var offset = 0
            var corrupt = false
            while offset + Self.recordHeaderBytes <= chunk.count, bytes < maxBytes {
                let length = Int(Self.bigEndian(chunk, at: offset))
                let recordEnd = offset + Self.recordHeaderBytes + length
                guard Self.plausible(length: length, endingAt: start + recordEnd, within: end) else {
                    corrupt = true
                    break
                }
                guard recordEnd <= chunk.count else { break }
                let payload = chunk[(offset + Self.recordHeaderBytes)..<recordEnd]
                guard CRC32.checksum(payload) == Self.bigEndian(chunk, at: offset + 4) else {
                    corrupt = true
                    break
                }
                loaded.append((segment.id, Array(payload)))
                segments[cursor.index].consumed += 1
                bytes += length
                offset = recordEnd
                cursor.offset = start + offset
            }
            if corrupt {
                try skipCorrupt()
                continue
            }
            if offset == 0 {
                // The next record is larger than a chunk.
                guard chunk.count >= Self.recordHeaderBytes else { throw SpoolError.io("read a record of", segment.path, EIO) }
                let length = Int(Self.bigEndian(chunk, at: 0))
                guard Self.plausible(length: length, endingAt: start + Self.recordHeaderBytes + length, within: end) else {
                    try skipCorrupt()
                    continue
                }
                let payload = try reader.read(count: length, at: start + Self.recordHeaderBytes)
                guard payload.count == length else { throw SpoolError.io("read a record of", segment.path, EIO) }
                guard CRC32.checksum(payload) == Self.bigEndian(chunk, at: 4) else {
                    try skipCorrupt()
                    continue
                }
                loaded.append((segment.id, payload))
                segments[cursor.index].consumed += 1
                bytes += length
                cursor.offset = start + Self.recordHeaderBytes + length
            }
        }
    }

    /// Whether a record header announcing `length` bytes, the record ending at `recordEnd`, can be one the spool wrote:
    /// appends never write an empty record, nor one over `maxRecordBytes`, nor one past the end of what was appended.
    private static func plausible(length: Int, endingAt recordEnd: Int, within end: Int) -> Bool {
        length > 0 && length <= maxRecordBytes && recordEnd <= end
    }

    /// The record at the cursor is corrupt: its bytes were read and are wrong, so reading them again would not help.
    ///
    /// Its header cannot be trusted to say where the next record starts, so the rest of the segment is scanned as
    /// recovery scans it at start-up: from the cursor, byte by byte, to the next record whose header and CRC check.
    /// The bytes skipped become a hole (as do those after the last whole record), the records in them are taken off the
    /// segment's count (so it can still be deleted once the rest is acknowledged) and the skip is reported in
    /// `corruptions`. Reads the rest of the segment at once: at most a segment, and only when something is corrupt.
    private func skipCorrupt() throws(SpoolError) {
        let index = cursor.index
        let segment = segments[index]
        let base = cursor.offset
        let contents = try reader(at: index).read(count: segment.size - base, at: base)
        let scan = Self.scanRecords(contents, from: 0)
        var holes = segment.holes.filter { $0.upperBound <= base }
        holes += scan.holes.map { (base + $0.lowerBound)..<(base + $0.upperBound) }
        if base + scan.end < segment.size { holes.append((base + scan.end)..<segment.size) }
        // The scan and the load check records alike, so the cursor's record is in a hole; guard against looping anyway.
        guard let skipped = holes.first(where: { $0.contains(base) }) else {
            throw SpoolError.io("read a record of", segment.path, EIO)
        }
        // Whole records the cursor has not passed, less those still whole after it.
        let lost = max(0, segment.records - segment.consumed - scan.records)
        segments[index].holes = holes
        segments[index].records -= lost
        corruptions.append(
            Corruption(segment: segment.id, path: segment.path, offset: base, bytes: skipped.count, records: lost))
        removeDelivered()
    }

    /// Counts acknowledged records of `segment`; sealed segments whose records are all acknowledged are deleted.
    package func acknowledge(segment: UInt64, records: Int) {
        guard let index = segments.firstIndex(where: { $0.id == segment }) else { return }
        segments[index].acknowledged += records
        removeDelivered()
        // All delivered: empty the active segment too, so a restart replays nothing already stored.
        if segments.count == 1, segments[0].acknowledged >= segments[0].records, segments[0].records > 0 || sealed,
            !hasUnloaded, (try? writer.truncate(to: Self.magic.count)) != nil
        {
            sealed = false  // torn bytes after the last record, if any, went with the rest
            totalBytes -= segments[0].size - Self.magic.count
            segments[0].size = Self.magic.count
            segments[0].records = 0
            segments[0].acknowledged = 0
            segments[0].consumed = 0
            segments[0].holes = []
            segments[0].reader?.close()
            segments[0].reader = nil
            cursor = (0, Self.magic.count)
        }
    }

    /// Deletes the oldest segments while they are sealed, passed by the cursor and all acknowledged.
    private func removeDelivered() {
        while segments.count > 1, segments[0].acknowledged >= segments[0].records, cursor.index > 0 {
            remove(at: 0)
        }
    }

    /// Descriptors with writes to flush, for `fsync` outside the lock and off the event loops: the segments sealed
    /// since the last call, and a duplicate of the active one's when it was written to. The caller owns and closes them.
    package func takeUnsyncedDescriptors() -> [Int32] {
        var descriptors = sealedUnsynced
        sealedUnsynced.removeAll()
        if dirty {
            dirty = false
            let duplicate = dup(writer.descriptor)
            if duplicate >= 0 { descriptors.append(duplicate) }
        }
        return descriptors
    }

    private func rotate() throws(SpoolError) {
        let id = segments[segments.count - 1].id + 1
        let path = Self.path(configuration.directory, id)
        let next = try Self.createSegment(path, directory: configuration.directory, calls: configuration.systemCalls)
        // Synced with the next group, not here: `append` runs on an event loop.
        sealedUnsynced.append(writer.descriptor)
        writer = next
        dirty = false
        sealed = false
        segments.append(Segment(id: id, path: path, size: Self.magic.count, records: 0))
        totalBytes += Self.magic.count
    }

    private func dropOldestBeyondBound() -> [Dropped] {
        var dropped: [Dropped] = []
        while totalBytes > configuration.maxBytes && segments.count > 1 {
            dropped.append(Dropped(segment: segments[0].id, records: max(0, segments[0].records - segments[0].acknowledged)))
            remove(at: 0)
        }
        return dropped
    }

    private func remove(at index: Int) {
        segments[index].reader?.close()
        unlink(segments[index].path)
        totalBytes -= segments[index].size
        segments.remove(at: index)
        if cursor.index > index {
            cursor.index -= 1
        } else if cursor.index == index {
            cursor = (index, Self.magic.count)
        }
    }

    private func reader(at index: Int) throws(SpoolError) -> SpoolFile {
        if let reader = segments[index].reader { return reader }
        let reader = try SpoolFile.open(segments[index].path, flags: O_RDONLY, calls: configuration.systemCalls)
        segments[index].reader = reader
        return reader
    }
}
