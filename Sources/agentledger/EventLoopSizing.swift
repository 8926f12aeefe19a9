import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// How many event loops the process runs: one per CPU it may actually run on.
///
/// NIO counts the machine's cores, less a cgroup quota or cpuset, but not the process's own affinity mask. A sidecar
/// pinned with `taskset` (or started by a runtime that sets affinity) would otherwise run as many loops as the
/// machine has cores on fewer CPUs, and pay for switching between them (5–10% more CPU per call, measured in
/// docs/benchmarks.md). `NIO_SINGLETON_GROUP_LOOP_COUNT` still wins when set.
enum EventLoopSizing {
    static func apply() {
        guard getenv("NIO_SINGLETON_GROUP_LOOP_COUNT") == nil, let allowed = affinityCPUs(), allowed < System.coreCount
        else { return }
        NIOSingletons.groupLoopCountSuggestion = max(1, allowed)
    }

    /// CPUs in this process's affinity mask, or nil where that cannot be read.
    static func affinityCPUs() -> Int? {
        #if os(Linux)
            // `sched_getaffinity` and `cpu_set_t` need _GNU_SOURCE, which the Glibc module does not define: the call
            // is looked up by name and given a mask of 1,024 CPUs (glibc's `cpu_set_t`).
            typealias GetAffinity = @convention(c) (pid_t, Int, UnsafeMutableRawPointer) -> Int32
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sched_getaffinity") else { return nil }
            let getAffinity = unsafeBitCast(symbol, to: GetAffinity.self)
            var mask = [UInt64](repeating: 0, count: 16)
            let status = mask.withUnsafeMutableBytes { getAffinity(0, $0.count, $0.baseAddress!) }
            guard status == 0 else { return nil }
            let count = mask.reduce(0) { $0 + $1.nonzeroBitCount }
            return count > 0 ? count : nil
        #else
            return nil
        #endif
    }
}
