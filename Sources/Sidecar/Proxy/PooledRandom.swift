import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Kernel randomness read 4 KiB at a time: `SystemRandomNumberGenerator` makes one `getrandom` call per
/// 64-bit value, two system calls on every proxied call for its action id. Falls back to the system
/// generator when `/dev/urandom` cannot be read.
struct PooledRandom: RandomNumberGenerator {
    private struct Pool: ~Copyable {
        var words = [UInt64](repeating: 0, count: 512)
        var next = 512
    }

    private static let pool = Mutex(Pool())

    mutating func next() -> UInt64 {
        let word = Self.pool.withLock { pool -> UInt64? in
            if pool.next == pool.words.count {
                guard Self.refill(&pool.words) else { return nil }
                pool.next = 0
            }
            defer { pool.next += 1 }
            return pool.words[pool.next]
        }
        if let word { return word }
        var system = SystemRandomNumberGenerator()
        return system.next()
    }

    private static func refill(_ words: inout [UInt64]) -> Bool {
        let descriptor = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { _ = close(descriptor) }
        return words.withUnsafeMutableBytes { raw in
            var filled = 0
            while filled < raw.count {
                let result = read(descriptor, raw.baseAddress! + filled, raw.count - filled)
                if result < 0 && errno == EINTR { continue }
                guard result > 0 else { return false }
                filled += result
            }
            return true
        }
    }
}
