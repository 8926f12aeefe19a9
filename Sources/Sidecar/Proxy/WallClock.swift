#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Wall-clock time for record timestamps (the monotonic clock measures durations).
enum WallClock {
    static func nowMicros() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1_000
    }
}

extension Duration {
    var micros: Int64 { components.seconds * 1_000_000 + components.attoseconds / 1_000_000_000_000 }
}
