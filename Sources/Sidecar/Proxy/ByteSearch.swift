#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Substring search over raw bytes with `memchr` and `memcmp`: the hot path scans every request body
/// once, and the generic `Collection.firstRange(of:)` is an order of magnitude slower.
enum ByteSearch {
    /// The offset of the first occurrence of `needle` in `haystack`, if any.
    static func firstOffset(of needle: [UInt8], in haystack: UnsafeRawBufferPointer) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count, let base = haystack.baseAddress else { return nil }
        return needle.withUnsafeBytes { pattern -> Int? in
            let first = Int32(needle[0])
            let lastStart = haystack.count - needle.count
            var offset = 0
            while offset <= lastStart {
                guard let hit = memchr(base + offset, first, lastStart - offset + 1) else { return nil }
                let position = base.distance(to: UnsafeRawPointer(hit))
                if memcmp(base + position, pattern.baseAddress!, needle.count) == 0 { return position }
                offset = position + 1
            }
            return nil
        }
    }

    static func firstRange(of needle: [UInt8], in bytes: ArraySlice<UInt8>) -> Range<Int>? {
        bytes.withUnsafeBytes { raw in
            firstOffset(of: needle, in: raw).map { (bytes.startIndex + $0)..<(bytes.startIndex + $0 + needle.count) }
        }
    }
}
