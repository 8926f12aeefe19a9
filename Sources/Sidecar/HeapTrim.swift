#if canImport(Glibc)
    import Glibc
#endif

/// Keeps what malloc holds after a load close to what the process uses (issue 20: back within 1.2 times idle 10 s
/// after a load).
package enum HeapTrim {
    /// Returns the free pages of every malloc arena to the kernel: once a load or a replay has passed, the megabytes it
    /// held are free but would otherwise stay resident in the arenas of the threads that allocated them.
    package static func trim() {
        #if canImport(Glibc)
            // glibc's `malloc_trim` is not in the Glibc module (malloc.h); looked up once.
            _ = mallocTrim?(0)
        #endif
    }

    /// Fixes glibc's trim and mmap thresholds (`mallopt`), which glibc otherwise raises each time a large block it
    /// had mapped is freed (the trim threshold to twice that block), up to 64 MiB; `malloc_trim` does not trim the top
    /// of a thread's arena. Sources/agentledger/MallocTunables.swift says where and why.
    package static func fixThresholds(trim: Int, mmap: Int) {
        #if canImport(Glibc)
            guard let mallopt else { return }
            // malloc.h: M_TRIM_THRESHOLD is -1, M_MMAP_THRESHOLD is -3; either one set stops both moving.
            _ = mallopt(-1, Int32(clamping: trim))
            _ = mallopt(-3, Int32(clamping: mmap))
        #endif
    }

    #if canImport(Glibc)
        private static let mallocTrim: (@convention(c) (Int) -> Int32)? = symbol("malloc_trim")
        private static let mallopt: (@convention(c) (Int32, Int32) -> Int32)? = symbol("mallopt")

        private static func symbol<Function>(_ name: String) -> Function? {
            dlsym(UnsafeMutableRawPointer(bitPattern: 0), name).map { unsafeBitCast($0, to: Function.self) }
        }
    #endif
}
