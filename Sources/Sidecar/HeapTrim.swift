#if canImport(Glibc)
    import Glibc
#endif

/// Returns the free pages of every malloc arena to the kernel: once a load or a replay has passed, the megabytes it
/// held are free but would otherwise stay resident in the arenas of the threads that allocated them.
package enum HeapTrim {
    package static func trim() {
        #if canImport(Glibc)
            // glibc's `malloc_trim` is not in the Glibc module (malloc.h); looked up once.
            _ = mallocTrim?(0)
        #endif
    }

    #if canImport(Glibc)
        private static let mallocTrim: (@convention(c) (Int) -> Int32)? = dlsym(
            UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim"
        )
        .map { unsafeBitCast($0, to: (@convention(c) (Int) -> Int32).self) }
    #endif
}
