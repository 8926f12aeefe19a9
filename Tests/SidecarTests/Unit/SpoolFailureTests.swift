import Foundation
import Synchronization
import Testing

@testable import Sidecar

/// The spool on a full or failing disk, and after a crash that tore a record (issue 14 item 4), and the modes of its
/// files (item 9).
@Suite struct SpoolFailureTests {
    /// A disk that takes `budget` more bytes, then writes part of a call and fails it with `code`.
    final class FailingDisk: Sendable {
        let budget = Mutex<Int>(.max)
        let truncateFails = Mutex(false)
        let code: Int32

        init(code: Int32 = ENOSPC) { self.code = code }

        var calls: SpoolFile.SystemCalls {
            var calls = SpoolFile.SystemCalls()
            calls.writev = { [self] descriptor, vectors, count in
                let wanted = (0..<Int(count)).reduce(0) { $0 + vectors[$1].iov_len }
                let allowed = budget.withLock { budget in
                    let allowed = min(budget, wanted)
                    if budget != .max { budget -= allowed }
                    return allowed
                }
                if allowed == 0 {
                    errno = code
                    return -1
                }
                // A short write: only the first `allowed` bytes of the first vector(s).
                var left = allowed
                var written = 0
                for index in 0..<Int(count) where left > 0 {
                    let part = min(left, vectors[index].iov_len)
                    let result = write(descriptor, vectors[index].iov_base, part)
                    guard result >= 0 else { return result }
                    written += result
                    left -= part
                }
                return written
            }
            calls.ftruncate = { [self] descriptor, size in
                if truncateFails.withLock({ $0 }) {
                    errno = EIO
                    return -1
                }
                return ftruncate(descriptor, size)
            }
            return calls
        }

        func fill(after bytes: Int) { budget.withLock { $0 = bytes } }
        func free() { budget.withLock { $0 = .max } }
    }

    func withDirectory(_ body: (String) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spool-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try body(directory)
    }

    func payload(_ index: Int, size: Int = 100) -> [UInt8] {
        Array("record-\(index)|".utf8) + [UInt8](repeating: UInt8(index % 251), count: size)
    }

    func configuration(_ directory: String, _ disk: FailingDisk) -> Spool.Configuration {
        var configuration = Spool.Configuration(directory: directory)
        configuration.systemCalls = disk.calls
        return configuration
    }

    func segmentFiles(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".spool") }.sorted()
            .map { "\(directory)/\($0)" }
    }

    @Test(arguments: [ENOSPC, EIO])
    func aFailedAppendIsRolledBackAndLaterAppendsReadBackWhole(code: Int32) throws {
        try withDirectory { directory in
            let disk = FailingDisk(code: code)
            let spool = try Spool(configuration: configuration(directory, disk))
            for index in 0..<3 { _ = try spool.append(payload(index)) }
            disk.fill(after: 50)  // the next record is torn after 50 of its 122 bytes
            #expect(throws: SpoolError.self) { try spool.append(payload(3)) }
            #expect(throws: SpoolError.self) { try spool.append(payload(4)) }
            #expect(spool.failedAppends == 2)
            disk.free()
            for index in 5..<8 { _ = try spool.append(payload(index)) }
            let expected = [0, 1, 2, 5, 6, 7].map { payload($0) }
            #expect(try spool.loadNext(maxBytes: .max).map(\.payload) == expected)
            let size = try #require(
                try FileManager.default.attributesOfItem(atPath: try segmentFiles(directory)[0])[.size] as? Int)
            #expect(size == spool.totalBytes, "no torn bytes left in the segment")
            let reopened = try Spool(configuration: .init(directory: directory))
            #expect(reopened.recoveredRecords == 6)
            #expect(reopened.truncatedBytes == 0)
            #expect(try reopened.loadNext(maxBytes: .max).map(\.payload) == expected)
        }
    }

    @Test func whenTheRollbackFailsTooTheSegmentIsSealedAndANewOneTakesTheNextRecords() throws {
        try withDirectory { directory in
            let disk = FailingDisk()
            let spool = try Spool(configuration: configuration(directory, disk))
            for index in 0..<3 { _ = try spool.append(payload(index)) }
            disk.fill(after: 50)
            disk.truncateFails.withLock { $0 = true }
            #expect(throws: SpoolError.self) { try spool.append(payload(3)) }
            // Still full: no new segment can be started either, and no half-made one is left behind.
            #expect(throws: SpoolError.self) { try spool.append(payload(4)) }
            #expect(try segmentFiles(directory).count == 1)
            disk.free()
            disk.truncateFails.withLock { $0 = false }
            for index in 5..<8 { _ = try spool.append(payload(index)) }
            #expect(try segmentFiles(directory).count == 2, "nothing was written after the torn bytes")
            let expected = [0, 1, 2, 5, 6, 7].map { payload($0) }
            #expect(try spool.loadNext(maxBytes: .max).map(\.payload) == expected)
            let reopened = try Spool(configuration: .init(directory: directory))
            #expect(reopened.recoveredRecords == 6)
            #expect(reopened.truncatedBytes == 50, "the torn tail is cut and counted at start-up")
            #expect(try reopened.loadNext(maxBytes: .max).map(\.payload) == expected)
        }
    }

    @Test func aFailedLoadKeepsWhatItReadAndNeverSkipsTheRecordItFailedOn() throws {
        try withDirectory { directory in
            let spool = try Spool(configuration: .init(directory: directory))
            for index in 0..<5 { _ = try spool.append(payload(index)) }
            // Corrupt the fourth record's length on disk, as a failing disk might.
            let path = try segmentFiles(directory)[0]
            let recordBytes = Spool.recordHeaderBytes + payload(0).count
            let handle = try #require(FileHandle(forUpdatingAtPath: path))
            try handle.seek(toOffset: UInt64(Spool.magic.count + 3 * recordBytes))
            handle.write(Data([0xFF, 0xFF, 0xFF, 0xFF]))
            try handle.close()
            var loaded: [(segment: UInt64, payload: [UInt8])] = []
            #expect(throws: SpoolError.self) { try spool.loadNext(maxBytes: .max, into: &loaded) }
            #expect(loaded.map(\.payload) == (0..<3).map { payload($0) }, "the records before the failure are kept")
            var again: [(segment: UInt64, payload: [UInt8])] = []
            #expect(throws: SpoolError.self) { try spool.loadNext(maxBytes: .max, into: &again) }
            #expect(again.isEmpty, "the cursor stayed on the record it could not read")
            #expect(spool.hasUnloaded)
        }
    }

    @Test func recoveryKeepsEveryWholeRecordAfterATornOne() throws {
        try withDirectory { directory in
            do {
                let spool = try Spool(configuration: .init(directory: directory))
                for index in 0..<3 { _ = try spool.append(payload(index)) }
            }
            // A torn record (its header promises 100 bytes, 30 arrived), then three whole records after it: what the
            // old spool left after a failed append.
            var tail = Data([0, 0, 0, 100, 0xDE, 0xAD, 0xBE, 0xEF]) + Data(repeating: 0x41, count: 30)
            for index in 3..<6 {
                let record = payload(index)
                let header = UInt64(UInt32(record.count)) << 32 | UInt64(CRC32.checksum(record))
                tail += withUnsafeBytes(of: header.bigEndian) { Data($0) } + Data(record)
            }
            let path = try segmentFiles(directory)[0]
            let handle = try #require(FileHandle(forWritingAtPath: path))
            handle.seekToEndOfFile()
            handle.write(tail)
            try handle.close()
            let reopened = try Spool(configuration: .init(directory: directory))
            #expect(reopened.recoveredRecords == 6)
            #expect(reopened.truncatedBytes == 38)
            _ = try reopened.append(payload(6))
            #expect(try reopened.loadNext(maxBytes: .max).map(\.payload) == (0..<7).map { payload($0) })
            // The torn bytes stay skipped across restarts too.
            let again = try Spool(configuration: .init(directory: directory))
            #expect(try again.loadNext(maxBytes: .max).map(\.payload) == (0..<7).map { payload($0) })
        }
    }

    @Test func spoolFilesAreTheOwnersAloneWhateverTheUmask() throws {
        try withDirectory { parent in
            let directory = parent + "/nested/spool"
            let previous = umask(0)
            defer { umask(previous) }
            var configuration = Spool.Configuration(directory: directory)
            configuration.segmentBytes = 1_000
            let spool = try Spool(configuration: configuration)
            for index in 0..<20 { _ = try spool.append(payload(index)) }  // several segments
            func mode(_ path: String) throws -> Int {
                try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
            }
            #expect(try mode(directory) == 0o700)
            #expect(try mode(parent + "/nested") == 0o700)
            let files = try segmentFiles(directory)
            #expect(files.count > 2)
            for file in files { #expect(try mode(file) == 0o600, "\(file)") }
            // A segment an older version left readable by all is made the owner's alone when recovered.
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: files[0])
            _ = try Spool(configuration: configuration)
            #expect(try mode(files[0]) == 0o600)
        }
    }
}
