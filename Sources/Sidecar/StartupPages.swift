import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// Hands back, once the sidecar serves, the resident pages of its read-only file mappings: the code, symbol
/// tables and relocation records of the binary and its libraries that start-up touched (the dynamic loader's
/// relocation pass, argument parsing, Foundation's and the runtime's initialisation). `MADV_DONTNEED` only drops
/// this process's page-table entries: the pages stay in the page cache, shared with every other process, and a page
/// used again comes back on a minor fault, without disk I/O. A mapping with any copy-on-write page (a relocated
/// read-only segment) is left alone, since dropping it would bring back the unrelocated file contents.
package enum StartupPages {
    /// What one pass released.
    package struct Released: Sendable, Equatable {
        package var mappings = 0
        package var bytes = 0
    }

    /// One mapping of `/proc/self/smaps` with what decides whether its pages may be dropped.
    package struct Mapping: Equatable {
        package var start: UInt
        package var end: UInt
        package var readOnlyFile: Bool
        package var rssKiB = 0
        package var anonymousKiB = 0
        package var pinned = false

        package var droppable: Bool { readOnlyFile && !pinned && anonymousKiB == 0 && rssKiB > 0 }
    }

    /// Drops the resident pages of every droppable mapping of this process (Linux; elsewhere it does nothing).
    @discardableResult
    package static func release() -> Released {
        var released = Released()
        #if os(Linux)
            guard let text = readSmaps() else { return released }
            for mapping in mappings(smaps: text) where mapping.droppable {
                guard let address = UnsafeMutableRawPointer(bitPattern: mapping.start),
                    madvise(address, Int(mapping.end - mapping.start), MADV_DONTNEED) == 0
                else { continue }
                released.mappings += 1
                released.bytes += mapping.rssKiB << 10
            }
        #endif
        return released
    }

    /// Start-up (argument parsing, relocation, spool recovery, the link's first connect) is over within a second of
    /// listening: a second later, the code only it used is handed back, once.
    package static func releaseAfterStartUp(logger: Logger) {
        Task {
            try? await Task.sleep(for: .seconds(1))
            let released = release()
            logger.debug(
                "start-up pages released", metadata: ["mappings": "\(released.mappings)", "bytes": "\(released.bytes)"])
        }
    }

    /// The mappings of an smaps text. Read-only means neither writable nor shared-writable, backed by a file
    /// (a path, not `[vdso]` or `[heap]`); locked, I/O and PFN mappings count as pinned.
    package static func mappings(smaps: String) -> [Mapping] {
        var result: [Mapping] = []
        for line in smaps.split(separator: "\n", omittingEmptySubsequences: true) {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let first = fields.first else { continue }
            if let dash = first.firstIndex(of: "-"), fields.count >= 5,
                let start = UInt(first[..<dash], radix: 16), let end = UInt(first[first.index(after: dash)...], radix: 16)
            {
                let permissions = fields[1]
                let path = fields.count >= 6 ? fields[5] : ""
                let readOnlyFile = permissions.hasPrefix("r") && !permissions.contains("w") && path.hasPrefix("/")
                result.append(Mapping(start: start, end: end, readOnlyFile: readOnlyFile))
            } else if !result.isEmpty, fields.count >= 2 {
                switch first {
                case "Rss:": result[result.count - 1].rssKiB = Int(fields[1]) ?? 0
                case "Anonymous:": result[result.count - 1].anonymousKiB = Int(fields[1]) ?? 1
                case "VmFlags:":
                    result[result.count - 1].pinned = fields.dropFirst().contains { ["lo", "io", "pf"].contains($0) }
                default: break
                }
            }
        }
        return result
    }

    #if os(Linux)
        private static func readSmaps() -> String? {
            guard let file = fopen("/proc/self/smaps", "r") else { return nil }
            defer { fclose(file) }
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
                if count <= 0 { break }
                bytes.append(contentsOf: chunk[..<count])
            }
            return String(decoding: bytes, as: UTF8.self)
        }
    #endif
}
