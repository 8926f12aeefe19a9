#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Start-up: finding segments, checking every record, skipping torn ones and cutting a torn tail.
extension Spool {
    static func path(_ directory: String, _ id: UInt64) -> String {
        let digits = String(id)
        return "\(directory)/segment-\(String(repeating: "0", count: max(0, 20 - digits.count)))\(digits).spool"
    }

    /// The spool directory's mode when the spool creates it: its owner's alone, whatever the umask.
    static let directoryMode: mode_t = 0o700

    /// Creates the directory and its missing parents, each 0700. A directory that already exists is left as it is:
    /// it may be shared (docs/operations.md, "Spool").
    static func makeDirectory(_ directory: String) throws(SpoolError) {
        var info = stat()
        if stat(directory, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else { throw SpoolError.notADirectory(directory) }
            return
        }
        var prefix = directory.hasPrefix("/") ? "" : "."
        for part in directory.split(separator: "/") {
            prefix += "/" + part
            if mkdir(prefix, directoryMode) == 0 {
                _ = chmod(prefix, directoryMode)  // the umask may have taken bits away; it may not add any
            } else if errno != EEXIST {
                throw SpoolError.io("mkdir", prefix, errno)
            }
        }
    }

    /// Segment files in id order.
    static func segmentFiles(in directory: String) throws(SpoolError) -> [(UInt64, String)] {
        guard let handle = opendir(directory) else { throw SpoolError.io("opendir", directory, errno) }
        defer { closedir(handle) }
        var found: [(UInt64, String)] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name.hasPrefix("segment-"), name.hasSuffix(".spool"),
                let id = UInt64(name.dropFirst("segment-".count).dropLast(".spool".count))
            else { continue }
            found.append((id, "\(directory)/\(name)"))
        }
        return found.sorted { $0.0 < $1.0 }
    }

    static func createSegment(_ path: String, directory: String, calls: SpoolFile.SystemCalls) throws(SpoolError)
        -> SpoolFile
    {
        let file = try SpoolFile.open(path, flags: O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, calls: calls)
        do {
            try file.write(magic)
        } catch {
            // A disk too full for even the header: leave no half-made segment behind.
            file.close()
            unlink(path)
            throw error
        }
        // Make the new file's name durable too, not only its contents.
        let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY)
        if directoryDescriptor >= 0 {
            _ = fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
        return file
    }

    /// Checks a segment record by record. After a record cut short or failing its CRC, the scan goes on byte by byte
    /// to the next record whose header and CRC check: the torn bytes between become a hole the reader skips, and
    /// every whole record after them is kept. Torn bytes at the end are cut off.
    static func recover(id: UInt64, path: String, calls: SpoolFile.SystemCalls) throws(SpoolError)
        -> (segment: Segment, truncated: Int)
    {
        let file = try SpoolFile.open(path, flags: O_RDWR, calls: calls)
        defer { file.close() }
        let size = try file.size()
        guard size >= magic.count, try file.read(count: magic.count, at: 0) == magic else {
            return (Segment(id: id, path: path, size: 0, records: 0), size)
        }
        let contents = try file.read(count: size, at: 0)
        let scan = scanRecords(contents, from: magic.count)
        if scan.end < size { try file.truncate(to: scan.end) }
        var segment = Segment(id: id, path: path, size: scan.end, records: scan.records)
        segment.holes = scan.holes
        let torn = scan.holes.reduce(0) { $0 + $1.count }
        return (segment, torn + size - scan.end)
    }

    /// Walks `contents` from `start` (where a record begins) to its end: counts the whole records, and collects the
    /// ranges of torn bytes between them (`holes`, each ending where a whole record starts). `end` is just past the
    /// last whole record (`start` when there is none); the bytes after it hold no whole record.
    static func scanRecords(_ contents: [UInt8], from start: Int) -> (records: Int, holes: [Range<Int>], end: Int) {
        var offset = start
        var end = offset  // just past the last whole record
        var records = 0
        var holes: [Range<Int>] = []
        while offset + recordHeaderBytes <= contents.count {
            guard let next = wholeRecordEnd(in: contents, at: offset) else {
                offset += 1
                continue
            }
            if offset > end { holes.append(end..<offset) }
            records += 1
            offset = next
            end = next
        }
        return (records, holes, end)
    }

    /// Where the record at `offset` ends, when a whole one starts there: a non-empty payload within bounds whose CRC
    /// matches its header.
    static func wholeRecordEnd(in contents: [UInt8], at offset: Int) -> Int? {
        let length = Int(bigEndian(contents, at: offset))
        let end = offset + recordHeaderBytes + length
        guard length > 0, length <= maxRecordBytes, end <= contents.count else { return nil }
        let checksum = bigEndian(contents, at: offset + 4)
        return CRC32.checksum(contents[(offset + recordHeaderBytes)..<end]) == checksum ? end : nil
    }

    static func bigEndian(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        guard offset + 4 <= bytes.count else { return 0 }
        return UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8
            | UInt32(bytes[offset + 3])
    }
}
