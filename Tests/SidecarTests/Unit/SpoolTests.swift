import Foundation
import Testing

@testable import Sidecar

@Suite struct SpoolTests: SpoolTestSupport {
    /// What the shipper does with the descriptors the spool hands out: flush each, then close it.
    func syncAndClose(_ descriptors: [Int32]) {
        for descriptor in descriptors {
            #expect(fsync(descriptor) == 0)
            close(descriptor)
        }
    }

    func files(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".spool") }.sorted()
    }

    @Test func appendedRecordsLoadInOrder() throws {
        try withDirectory { directory in
            let spool = try Spool(configuration: .init(directory: directory))
            #expect(!spool.hasUnloaded)
            for index in 0..<10 { _ = try spool.append(payload(index)) }
            #expect(spool.hasUnloaded)
            let loaded = try spool.loadNext(maxBytes: .max)
            #expect(loaded.map(\.payload) == (0..<10).map { payload($0) })
            #expect(!spool.hasUnloaded)
        }
    }

    @Test func recordsLargerThanAReadChunkLoadInOrderAndLoadsStopNearTheirBound() throws {
        try withDirectory { directory in
            let spool = try Spool(configuration: .init(directory: directory))
            let sizes = [100, Spool.readChunkBytes + 500, 100, 2 * Spool.readChunkBytes, 100, 100, 100]
            for (index, size) in sizes.enumerated() { _ = try spool.append(payload(index, size: size)) }
            var loaded = try spool.loadNext(maxBytes: 1)
            #expect(loaded.map(\.payload) == [payload(0, size: 100)])
            loaded += try spool.loadNext(maxBytes: .max)
            #expect(loaded.map(\.payload) == sizes.enumerated().map { payload($0, size: $1) })
            #expect(!spool.hasUnloaded)
        }
    }

    @Test func recordsSurviveARestartUntilAcknowledged() throws {
        try withDirectory { directory in
            var configuration = Spool.Configuration(directory: directory)
            configuration.segmentBytes = 1_000
            do {
                let spool = try Spool(configuration: configuration)
                for index in 0..<30 { _ = try spool.append(payload(index)) }
            }
            let reopened = try Spool(configuration: configuration)
            #expect(reopened.recoveredRecords == 30)
            let loaded = try reopened.loadNext(maxBytes: .max)
            #expect(loaded.map(\.payload) == (0..<30).map { payload($0) })
            // Acknowledge everything: every sealed segment goes away, only the fresh active one stays.
            var perSegment: [UInt64: Int] = [:]
            for record in loaded { perSegment[record.segment, default: 0] += 1 }
            for (segment, records) in perSegment { reopened.acknowledge(segment: segment, records: records) }
            #expect(try files(directory).count == 1)
            #expect(reopened.totalBytes == Spool.magic.count, "a drained spool holds nothing to replay")
            let again = try Spool(configuration: configuration)
            #expect(again.recoveredRecords == 0)
        }
    }

    @Test func aDrainedActiveSegmentIsEmptiedAndKeepsWorking() throws {
        try withDirectory { directory in
            let spool = try Spool(configuration: .init(directory: directory))
            for index in 0..<3 { _ = try spool.append(payload(index)) }
            let loaded = try spool.loadNext(maxBytes: .max)
            spool.acknowledge(segment: loaded[0].segment, records: 3)
            #expect(spool.totalBytes == Spool.magic.count)
            _ = try spool.append(payload(7))
            #expect(try spool.loadNext(maxBytes: .max).map(\.payload) == [payload(7)])
            let reopened = try Spool(configuration: .init(directory: directory))
            #expect(reopened.recoveredRecords == 1)
        }
    }

    @Test func aTornTailIsCutAndTheRestKept() throws {
        try withDirectory { directory in
            do {
                let spool = try Spool(configuration: .init(directory: directory))
                for index in 0..<5 { _ = try spool.append(payload(index)) }
            }
            let name = try #require(try files(directory).first)
            let handle = try #require(FileHandle(forWritingAtPath: "\(directory)/\(name)"))
            handle.seekToEndOfFile()
            handle.write(Data([0, 0, 1, 0, 0xde, 0xad]))  // a header cut short, as a crash mid-write leaves it
            try handle.close()
            let reopened = try Spool(configuration: .init(directory: directory))
            #expect(reopened.recoveredRecords == 5)
            #expect(reopened.truncatedBytes == 6)
            #expect(try reopened.loadNext(maxBytes: .max).count == 5)
        }
    }

    @Test func aCorruptRecordEndsItsSegment() throws {
        try withDirectory { directory in
            do {
                let spool = try Spool(configuration: .init(directory: directory))
                for index in 0..<3 { _ = try spool.append(payload(index)) }
            }
            let path = "\(directory)/\(try #require(try files(directory).first))"
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            bytes[bytes.count - 5] ^= 0xFF  // flip a bit in the last record's payload
            try bytes.write(to: URL(fileURLWithPath: path))
            let reopened = try Spool(configuration: .init(directory: directory))
            #expect(reopened.recoveredRecords == 2)
        }
    }

    @Test func theBoundDropsTheOldestSegmentsAndCountsThem() throws {
        try withDirectory { directory in
            var configuration = Spool.Configuration(directory: directory, maxBytes: 4_000)
            configuration.segmentBytes = 1_000
            let spool = try Spool(configuration: configuration)
            var dropped = 0
            for index in 0..<100 { dropped += try spool.append(payload(index)).dropped.reduce(0) { $0 + $1.records } }
            #expect(dropped > 0)
            #expect(spool.totalBytes <= 4_000 + 1_000)
            let kept = try spool.loadNext(maxBytes: .max)
            #expect(kept.count + dropped == 100, "every record is either kept or counted as dropped")
            #expect(kept.last?.payload == payload(99), "the newest records are the ones kept")
        }
    }

    @Test func unsyncedWritesHandOutADescriptorOnce() throws {
        try withDirectory { directory in
            let spool = try Spool(configuration: .init(directory: directory))
            #expect(spool.takeUnsyncedDescriptors().isEmpty)
            _ = try spool.append(payload(1))
            let descriptors = spool.takeUnsyncedDescriptors()
            #expect(descriptors.count == 1)
            syncAndClose(descriptors)
            #expect(spool.takeUnsyncedDescriptors().isEmpty)
        }
    }

    @Test func sealedSegmentsAreSyncedWithTheNextGroupNotWhenSealed() throws {
        try withDirectory { directory in
            var configuration = Spool.Configuration(directory: directory)
            configuration.segmentBytes = 1_000
            let spool = try Spool(configuration: configuration)
            for index in 0..<30 { _ = try spool.append(payload(index)) }
            let sealed = try files(directory).count - 1
            #expect(sealed > 1)
            let descriptors = spool.takeUnsyncedDescriptors()
            #expect(descriptors.count == sealed + 1, "every sealed segment, and the active one")
            syncAndClose(descriptors)
            #expect(spool.takeUnsyncedDescriptors().isEmpty)
        }
    }

    @Test func aFileWhereTheDirectoryShouldBeIsAClearError() throws {
        try withDirectory { directory in
            FileManager.default.createFile(atPath: directory, contents: Data())
            #expect(throws: SpoolError.self) { try Spool(configuration: .init(directory: directory)) }
        }
    }

    @Test func crcMatchesTheStandardCheckValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        // The table-driven (slicing-by-8) checksum equals the bit-at-a-time definition at every length and alignment.
        func bitwise(_ bytes: some Sequence<UInt8>) -> UInt32 {
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in bytes {
                crc ^= UInt32(byte)
                for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
            }
            return ~crc
        }
        var generator = SystemRandomNumberGenerator()
        let data = (0..<301).map { _ in UInt8.random(in: 0...255, using: &generator) }
        for length in 0...300 {
            #expect(CRC32.checksum(data[..<length]) == bitwise(data[..<length]), "length \(length)")
            #expect(CRC32.checksum(data[1..<(1 + length)]) == bitwise(data[1..<(1 + length)]), "offset 1, length \(length)")
        }
        #expect(CRC32.checksum(data.lazy.map { $0 }) == bitwise(data), "a sequence that is not contiguous")
    }
}
