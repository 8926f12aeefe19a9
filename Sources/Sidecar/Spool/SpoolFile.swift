#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Thin wrappers over POSIX file calls, turning failures into `SpoolError`s that name the path.
struct SpoolFile {
    let path: String
    let descriptor: Int32

    static func open(_ path: String, flags: Int32) throws(SpoolError) -> SpoolFile {
        let descriptor = Glibc.open(path, flags | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw SpoolError.io("open", path, errno) }
        return SpoolFile(path: path, descriptor: descriptor)
    }

    func write(_ bytes: [UInt8]) throws(SpoolError) {
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { raw in
                Glibc.write(descriptor, raw.baseAddress! + written, raw.count - written)
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw SpoolError.io("write", path, errno)
            }
            written += result
        }
    }

    /// Appends a record: its 8-byte `header` (big-endian) and `payload`, in one `writev` and without copying them
    /// together first.
    func write(header: UInt64, payload: [UInt8]) throws(SpoolError) {
        var header = header.bigEndian
        let total = MemoryLayout<UInt64>.size + payload.count
        var written = 0
        while written < total {
            let result = withUnsafeBytes(of: &header) { head in
                payload.withUnsafeBytes { body in
                    withUnsafeTemporaryAllocation(of: iovec.self, capacity: 2) { vectors in
                        if written < head.count {
                            vectors[0] = iovec(
                                iov_base: UnsafeMutableRawPointer(mutating: head.baseAddress! + written),
                                iov_len: head.count - written)
                            vectors[1] = iovec(iov_base: UnsafeMutableRawPointer(mutating: body.baseAddress), iov_len: body.count)
                            return writev(descriptor, vectors.baseAddress!, body.isEmpty ? 1 : 2)
                        }
                        let offset = written - head.count
                        vectors[0] = iovec(
                            iov_base: UnsafeMutableRawPointer(mutating: body.baseAddress! + offset), iov_len: body.count - offset)
                        return writev(descriptor, vectors.baseAddress!, 1)
                    }
                }
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw SpoolError.io("write", path, errno)
            }
            written += result
        }
    }

    /// Reads up to `count` bytes at `offset`; fewer at the end of the file.
    func read(count: Int, at offset: Int) throws(SpoolError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var total = 0
        while total < count {
            let result = buffer.withUnsafeMutableBytes { raw in
                pread(descriptor, raw.baseAddress! + total, count - total, off_t(offset + total))
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw SpoolError.io("read", path, errno)
            }
            if result == 0 { break }
            total += result
        }
        buffer.removeLast(count - total)
        return buffer
    }

    func size() throws(SpoolError) -> Int {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw SpoolError.io("stat", path, errno) }
        return Int(info.st_size)
    }

    func truncate(to size: Int) throws(SpoolError) {
        guard ftruncate(descriptor, off_t(size)) == 0 else { throw SpoolError.io("truncate", path, errno) }
    }

    func close() { _ = Glibc.close(descriptor) }
}

/// Why the spool could not do something; the message names the file and the system error.
package enum SpoolError: Error, CustomStringConvertible {
    case io(String, String, Int32)
    case notADirectory(String)

    package var description: String {
        switch self {
        case .io(let operation, let path, let code): "\(operation) \(path): \(String(cString: strerror(code)))"
        case .notADirectory(let path): "\(path) exists and is not a directory"
        }
    }
}
