import Sidecar
import Testing

/// Which mappings of /proc/self/smaps the sidecar may drop after start-up.
@Suite struct StartupPagesTests {
    static let smaps = """
        55d0c0a00000-55d0c2353000 r-xp 00000000 fe:00 16245338                   /app/agentledger
        Rss:               12000 kB
        Anonymous:             0 kB
        VmFlags: rd ex mr mw me
        55d0c2353000-55d0c2411000 r--p 01952000 fe:00 16245338                   /app/agentledger
        Rss:                 760 kB
        Anonymous:           760 kB
        VmFlags: rd mr mw me ac
        55d0c2411000-55d0c25ee000 rw-p 01a10000 fe:00 16245338                   /app/agentledger
        Rss:                1460 kB
        Anonymous:           188 kB
        7ffd1a5f2000-7ffd1a5f4000 r-xp 00000000 00:00 0                          [vdso]
        Rss:                   4 kB
        Anonymous:             0 kB
        7f0000000000-7f0000001000 r--p 00000000 fe:00 1                          /app/locked
        Rss:                   4 kB
        Anonymous:             0 kB
        VmFlags: rd mr mw me lo
        """

    @Test func onlyUntouchedReadOnlyFileMappingsAreDropped() {
        let mappings = StartupPages.mappings(smaps: Self.smaps)
        #expect(mappings.count == 5)
        #expect(mappings.map(\.droppable) == [true, false, false, false, false])
        #expect(mappings[0].start == 0x55d0_c0a0_0000 && mappings[0].rssKiB == 12000)
        #expect(mappings[1].anonymousKiB == 760)
        #expect(mappings[4].pinned)
    }

    @Test func releasingLeavesTheProcessRunning() {
        let released = StartupPages.release()
        #expect(released.mappings > 0)
        // Code whose pages were just dropped runs again (they come back from the page cache).
        #expect(StartupPages.mappings(smaps: Self.smaps).count == 5)
    }
}
