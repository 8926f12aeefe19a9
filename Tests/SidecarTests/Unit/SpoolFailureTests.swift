import Foundation
import Synchronization
import Testing

@testable import Sidecar

/// The spool on a full or failing disk, and after a crash that tore a record (issue 14 item 4), and the modes of its
/// files (item 9).
@Suite struct SpoolFailureTests: SpoolTestSupport {
    /// A disk that takes `budget` more bytes, then writes part of a call and fails it with `code`; and whose reads
    /// fail with EIO from byte `readsFailFrom` of every file on (after returning the bytes before it, as a bad sector).
    final class FailingDisk: Sendable {
        let budget = Mutex<Int>(.max)
        let truncateFails = Mutex(false)
        let readsFailFrom = Mutex<Int>(.max)
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
            calls.pread = { [self] descriptor, buffer, count, offset in
                let failFrom = readsFailFrom.withLock { $0 }
                guard Int(offset) < failFrom else {
                    errno = EIO
                    return -1
                }
                return pread(descriptor, buffer, min(count, failFrom - Int(offset)), offset)
            }
            return calls
        }

        func fill(after bytes: Int) { budget.withLock { $0 = bytes } }
        func free() { budget.withLock { $0 = .max } }
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
            let disk = FailingDisk()
            let spool = try Spool(configuration: configuration(directory, disk))
            // Records of over half a read chunk: each chunk read holds one whole record.
            let size = Spool.readChunkBytes / 2 + 1_000
            for index in 0..<5 { _ = try spool.append(payload(index, size: size)) }
            // The disk fails to read the fourth record; the chunk read for the third reaches into it.
            let recordBytes = Spool.recordHeaderBytes + payload(0, size: size).count
            disk.readsFailFrom.withLock { $0 = Spool.magic.count + 3 * recordBytes + 10 }
            var loaded: [(segment: UInt64, payload: [UInt8])] = []
            #expect(throws: SpoolError.self) { try spool.loadNext(maxBytes: .max, into: &loaded) }
            #expect(loaded.map(\.payload) == (0..<2).map { payload($0, size: size) }, "the records before it are kept")
            var again: [(segment: UInt64, payload: [UInt8])] = []
            #expect(throws: SpoolError.self) { try spool.loadNext(maxBytes: .max, into: &again) }
            #expect(again.isEmpty, "the cursor stayed on the record it could not read")
            #expect(spool.hasUnloaded)
            #expect(spool.takeCorruptions().isEmpty, "a failed read is not corruption")
            disk.readsFailFrom.withLock { $0 = .max }
            #expect(try spool.loadNext(maxBytes: .max).map(\.payload) == (2..<5).map { payload($0, size: size) })
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

/// Records that rot on disk after they were written (bit rot, a torn write recovery did not see): a load checks each
/// record's header and CRC, skips a corrupt one with the bytes up to the next whole record, and reports it once.
@Suite struct SpoolCorruptionTests: SpoolTestSupport {
    func segmentFiles(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".spool") }.sorted()
            .map { "\(directory)/\($0)" }
    }

    /// Flips the bits of `mask` in the byte at `offset` of the file at `path`.
    static func flip(_ path: String, at offset: Int, mask: UInt8) throws {
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(offset))
        let byte = try #require(try handle.read(upToCount: 1)?.first)
        try handle.seek(toOffset: UInt64(offset))
        try handle.write(contentsOf: [byte ^ mask])
    }

    /// Acknowledges what was loaded, segment by segment, as the shipper does once the collector ACKs it.
    func acknowledge(_ loaded: [(segment: UInt64, payload: [UInt8])], in spool: Spool) {
        var perSegment: [UInt64: Int] = [:]
        for record in loaded { perSegment[record.segment, default: 0] += 1 }
        for (segment, records) in perSegment { spool.acknowledge(segment: segment, records: records) }
    }

    @Test(arguments: [
        (Spool.recordHeaderBytes + 20, UInt8(0x01)),  // a bit of the payload
        (5, 0x80),  // a bit of the CRC
        (0, 0xFF),  // the length's top byte: a record far larger than the segment
        (3, 0x10),  // the length's low byte: a record that ends 16 bytes into the next one
        (3, 0x40),  // the length's low byte: a record that ends inside its own payload
    ])
    func aCorruptRecordIsSkippedReportedOnceAndTheRestLoad(byte: Int, mask: UInt8) throws {
        try withDirectory { directory in
            let spool = try Spool(configuration: .init(directory: directory))
            for index in 0..<5 { _ = try spool.append(payload(index)) }
            let path = try segmentFiles(directory)[0]
            let recordBytes = Spool.recordHeaderBytes + payload(0).count
            let third = Spool.magic.count + 2 * recordBytes
            try Self.flip(path, at: third + byte, mask: mask)
            let loaded = try spool.loadNext(maxBytes: .max)
            #expect(loaded.map(\.payload) == [0, 1, 3, 4].map { payload($0) }, "never handed out, nor the rest held up")
            #expect(
                spool.takeCorruptions()
                    == [Spool.Corruption(segment: 1, path: path, offset: third, bytes: recordBytes, records: 1)])
            #expect(spool.takeCorruptions().isEmpty, "reported once")
            #expect(try spool.loadNext(maxBytes: .max).isEmpty)
            // The corrupt record is no longer the segment's to deliver: acknowledging the rest empties the spool.
            acknowledge(loaded, in: spool)
            #expect(spool.totalBytes == Spool.magic.count)
            _ = try spool.append(payload(5))
            #expect(try spool.loadNext(maxBytes: .max).map(\.payload) == [payload(5)], "the emptied segment works on")
        }
    }

    @Test func aCorruptRecordLargerThanAReadChunkIsSkipped() throws {
        try withDirectory { directory in
            let spool = try Spool(configuration: .init(directory: directory))
            let sizes = [100, Spool.readChunkBytes + 500, 100]
            for (index, size) in sizes.enumerated() { _ = try spool.append(payload(index, size: size)) }
            let second = Spool.magic.count + Spool.recordHeaderBytes + payload(0).count
            try Self.flip(try segmentFiles(directory)[0], at: second + Spool.readChunkBytes, mask: 0x04)
            let loaded = try spool.loadNext(maxBytes: .max)
            #expect(loaded.map(\.payload) == [payload(0), payload(2, size: 100)])
            #expect(spool.takeCorruptions().map(\.records) == [1])
        }
    }

    @Test func aCorruptTailOfTheActiveSegmentIsSkippedAndLaterAppendsLoad() throws {
        try withDirectory { directory in
            let spool = try Spool(configuration: .init(directory: directory))
            for index in 0..<3 { _ = try spool.append(payload(index)) }
            let path = try segmentFiles(directory)[0]
            let recordBytes = Spool.recordHeaderBytes + payload(0).count
            // The last record's length grows past the end of what was appended.
            try Self.flip(path, at: Spool.magic.count + 2 * recordBytes + 2, mask: 0x01)
            var loaded = try spool.loadNext(maxBytes: .max)
            #expect(loaded.map(\.payload) == [payload(0), payload(1)])
            #expect(spool.takeCorruptions().map(\.bytes) == [recordBytes])
            _ = try spool.append(payload(3))
            loaded += try spool.loadNext(maxBytes: .max)
            #expect(loaded.map(\.payload) == [0, 1, 3].map { payload($0) })
            acknowledge(loaded, in: spool)
            #expect(spool.totalBytes == Spool.magic.count)
        }
    }

    @Test func aSealedSegmentWithACorruptRecordIsDeletedOnceTheRestIsAcknowledged() throws {
        try withDirectory { directory in
            var configuration = Spool.Configuration(directory: directory)
            configuration.segmentBytes = 1_000
            let spool = try Spool(configuration: configuration)
            for index in 0..<30 { _ = try spool.append(payload(index)) }
            let first = try segmentFiles(directory)[0]
            try Self.flip(first, at: Spool.magic.count + Spool.recordHeaderBytes + 30, mask: 0x40)
            let loaded = try spool.loadNext(maxBytes: .max)
            #expect(loaded.map(\.payload) == (1..<30).map { payload($0) })
            #expect(spool.takeCorruptions().map(\.records) == [1])
            acknowledge(loaded, in: spool)
            #expect(try segmentFiles(directory).count == 1, "every sealed segment is gone, the corrupt one too")
            #expect(spool.totalBytes == Spool.magic.count)
        }
    }

    @Test func severalCorruptRecordsInARowAreOneSkipAndCountedEach() throws {
        try withDirectory { directory in
            let spool = try Spool(configuration: .init(directory: directory))
            for index in 0..<6 { _ = try spool.append(payload(index)) }
            let path = try segmentFiles(directory)[0]
            let recordBytes = Spool.recordHeaderBytes + payload(0).count
            for record in 1...3 { try Self.flip(path, at: Spool.magic.count + record * recordBytes + 1, mask: 0x20) }
            let loaded = try spool.loadNext(maxBytes: .max)
            #expect(loaded.map(\.payload) == [0, 4, 5].map { payload($0) })
            let offset = Spool.magic.count + recordBytes
            #expect(
                spool.takeCorruptions()
                    == [Spool.Corruption(segment: 1, path: path, offset: offset, bytes: 3 * recordBytes, records: 3)])
        }
    }
}
