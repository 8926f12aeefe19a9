#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Thin wrappers over POSIX file calls, turning failures into `SpoolError`s that name the path.
struct SpoolFile {
    /// The calls that change a file's size, and the read, replaceable so tests can fail them as a full or failing disk
    /// does.
    struct SystemCalls: Sendable {
        var writev: @Sendable (Int32, UnsafePointer<iovec>, Int32) -> Int = { Glibc.writev($0, $1, $2) }
        var ftruncate: @Sendable (Int32, off_t) -> Int32 = { Glibc.ftruncate($0, $1) }
        var pread: @Sendable (Int32, UnsafeMutableRawPointer, Int, off_t) -> Int = { Glibc.pread($0, $1, $2, $3) }
    }

    /// Spool files are readable by their owner only (docs/operations.md, "Spool"): they hold prompts and answers.
    static let mode: mode_t = 0o600

    let path: String
    let descriptor: Int32
    var calls = SystemCalls()

    static func open(_ path: String, flags: Int32, calls: SystemCalls = SystemCalls()) throws(SpoolError) -> SpoolFile {
        let descriptor = Glibc.open(path, flags | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw SpoolError.io("open", path, errno) }
        // Whatever the umask, and for a file an older version created 0644.
        if flags & (O_WRONLY | O_RDWR) != 0 { _ = fchmod(descriptor, mode) }
        return SpoolFile(path: path, descriptor: descriptor, calls: calls)
    }

    func write(_ bytes: [UInt8]) throws(SpoolError) {
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { raw in
                var vector = iovec(
                    iov_base: UnsafeMutableRawPointer(mutating: raw.baseAddress! + written), iov_len: raw.count - written)
                return calls.writev(descriptor, &vector, 1)
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw SpoolError.io("write", path, errno)
            }
            // Nothing written and no error: a device that takes no more. Fail rather than spin.
            guard result > 0 else { throw SpoolError.io("write", path, EIO) }
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
                            return calls.writev(descriptor, vectors.baseAddress!, body.isEmpty ? 1 : 2)
                        }
                        let offset = written - head.count
                        vectors[0] = iovec(
                            iov_base: UnsafeMutableRawPointer(mutating: body.baseAddress! + offset), iov_len: body.count - offset)
                        return calls.writev(descriptor, vectors.baseAddress!, 1)
                    }
                }
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw SpoolError.io("write", path, errno)
            }
            // Nothing written and no error: a device that takes no more. Fail rather than spin.
            guard result > 0 else { throw SpoolError.io("write", path, EIO) }
            written += result
        }
    }

    /// Reads up to `count` bytes at `offset`; fewer at the end of the file.
    func read(count: Int, at offset: Int) throws(SpoolError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var total = 0
        while total < count {
            let result = buffer.withUnsafeMutableBytes { raw in
                calls.pread(descriptor, raw.baseAddress! + total, count - total, off_t(offset + total))
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
        guard calls.ftruncate(descriptor, off_t(size)) == 0 else { throw SpoolError.io("truncate", path, errno) }
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
