#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Start-up: finding segments, checking every record, cutting a torn tail.
extension Spool {
    static func path(_ directory: String, _ id: UInt64) -> String {
        let digits = String(id)
        return "\(directory)/segment-\(String(repeating: "0", count: max(0, 20 - digits.count)))\(digits).spool"
    }

    static func makeDirectory(_ directory: String) throws(SpoolError) {
        var info = stat()
        if stat(directory, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else { throw SpoolError.notADirectory(directory) }
            return
        }
        var prefix = directory.hasPrefix("/") ? "" : "."
        for part in directory.split(separator: "/") {
            prefix += "/" + part
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST { throw SpoolError.io("mkdir", prefix, errno) }
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

    static func createSegment(_ path: String, directory: String) throws(SpoolError) -> SpoolFile {
        let file = try SpoolFile.open(path, flags: O_WRONLY | O_CREAT | O_TRUNC | O_APPEND)
        try file.write(magic)
        // Make the new file's name durable too, not only its contents.
        let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY)
        if directoryDescriptor >= 0 {
            _ = fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
        return file
    }

    /// Checks a segment record by record; a record cut short or failing its CRC ends the segment there.
    static func recover(id: UInt64, path: String) throws(SpoolError) -> (segment: Segment, truncated: Int) {
        let file = try SpoolFile.open(path, flags: O_RDWR)
        defer { file.close() }
        let size = try file.size()
        guard size >= magic.count, try file.read(count: magic.count, at: 0) == magic else {
            return (Segment(id: id, path: path, size: 0, records: 0), size)
        }
        let contents = try file.read(count: size, at: 0)
        var offset = magic.count
        var records = 0
        while offset + recordHeaderBytes <= size {
            let length = Int(bigEndian(contents, at: offset))
            let checksum = bigEndian(contents, at: offset + 4)
            let end = offset + recordHeaderBytes + length
            guard length <= maxRecordBytes, end <= size,
                CRC32.checksum(contents[(offset + recordHeaderBytes)..<end]) == checksum
            else { break }
            offset = end
            records += 1
        }
        if offset < size { try file.truncate(to: offset) }
        return (Segment(id: id, path: path, size: offset, records: records), size - offset)
    }

    static func bigEndian(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        guard offset + 4 <= bytes.count else { return 0 }
        return UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8
            | UInt32(bytes[offset + 3])
    }
}
