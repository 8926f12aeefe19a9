import Sidecar

#if canImport(Glibc)
    import Glibc
#endif

/// glibc malloc settings for `up` and `demo`, made before the allocator serves its first block (issue 20: memory back
/// within 1.2 times idle 10 s after a load). Measured in docs/benchmarks.md.
///
/// - The trim and mmap thresholds fixed at 512 KiB and 1 MiB. Left to itself glibc raises both each time a large
///   block it had mapped is freed, so after a load the free top of a thread's arena (3 to 6 MB) stayed resident. At
///   128 KiB a busy thread's arena was trimmed and grown again and again (a standalone sidecar spent 12-20% more CPU
///   per call); at 512 KiB as much is given back after a load.
/// - No per-thread cache of freed blocks (`tcache_count=0`). After a load, each busy thread's cache held up to seven
///   blocks of every small size, scattered over pages that then stayed resident: about 2 MiB over the four threads
///   that do the work in `up`.
///
/// `sidecar` and `collector`, whose memory is within their targets without these settings and whose CPU per call is
/// the measure that matters most, keep glibc's defaults.
///
/// glibc reads the cache's setting only from `GLIBC_TUNABLES`, when the program starts. So `up` and `demo` run their
/// own binary again, once, first thing, with the settings added to `GLIBC_TUNABLES`: the same process id, arguments
/// and open descriptors. The process run again puts the environment back as it was, so nothing it starts inherits the
/// settings. An operator's own `glibc.malloc.*` tunables are left as they are (and
/// `GLIBC_TUNABLES=glibc.malloc.tcache_count=7` restores glibc's defaults). Where the binary cannot be run again (no
/// `/proc`), the process goes on with the thresholds alone (`HeapTrim.fixThresholds`).
enum MallocTunables {
    static let trimThreshold = 512 * 1024
    static let mmapThreshold = 1024 * 1024
    static let tunables =
        "glibc.malloc.tcache_count=0:glibc.malloc.trim_threshold=\(trimThreshold):glibc.malloc.mmap_threshold=\(mmapThreshold)"
    /// In the process run again: the `GLIBC_TUNABLES` to put back, "-" for none or "=" and the value.
    static let marker = "AGENTLEDGER_MALLOC_TUNED"
    /// The commands that run with these settings: proxy and store in one process.
    static let commands: Set<String> = ["up", "demo"]

    static func apply() {
        #if os(Linux)
            if let saved = getenv(marker).map({ String(cString: $0) }) {
                restore(saved)
                HeapTrim.fixThresholds(trim: trimThreshold, mmap: mmapThreshold)
                return
            }
            let arguments = CommandLine.arguments
            guard arguments.count > 1, commands.contains(arguments[1]) else { return }
            let current = getenv("GLIBC_TUNABLES").map { String(cString: $0) }
            // The operator's own malloc settings win (glibc's older variables for the thresholds too).
            let operatorSet =
                current?.contains("glibc.malloc.") == true || getenv("MALLOC_TRIM_THRESHOLD_") != nil
                || getenv("MALLOC_MMAP_THRESHOLD_") != nil
            guard !operatorSet else { return }
            let saved = current.map { "=" + $0 } ?? "-"
            // The binary's own path, not /proc/self/exe, which would become the process's name ("exe") in `ps`.
            if let path = executablePath() {
                setenv(marker, saved, 1)
                setenv("GLIBC_TUNABLES", current.map { $0 + ":" + tunables } ?? tunables, 1)
                execv(path, CommandLine.unsafeArgv)
            }
            // Still here: the binary could not be run again.
            restore(saved)
            HeapTrim.fixThresholds(trim: trimThreshold, mmap: mmapThreshold)
        #endif
    }

    /// This process's executable, or nil where `/proc` cannot say.
    private static func executablePath() -> String? {
        #if os(Linux)
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
            guard length > 0 else { return nil }
            let path = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            // A binary replaced while running reads as "<path> (deleted)": there is nothing to run again.
            return path.hasSuffix(" (deleted)") ? nil : path
        #else
            return nil
        #endif
    }

    /// Puts `GLIBC_TUNABLES` back as `saved` records it, and removes the marker.
    private static func restore(_ saved: String) {
        #if os(Linux)
            if saved.hasPrefix("=") {
                setenv("GLIBC_TUNABLES", String(saved.dropFirst()), 1)
            } else {
                unsetenv("GLIBC_TUNABLES")
            }
            unsetenv(marker)
        #endif
    }
}
