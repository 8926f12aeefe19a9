#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Wall-clock time in microseconds since the Unix epoch, the unit of every instant on the wire and in the store
/// (the monotonic clock measures durations). Shared by the sidecar and the collector.
package enum WallClock {
    package static func nowMicros() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1_000
    }
}
