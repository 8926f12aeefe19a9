import Foundation

/// What the spool suites share: a fresh directory per test, and payloads that say which record they are.
protocol SpoolTestSupport {}

extension SpoolTestSupport {
    func withDirectory(_ body: (String) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spool-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try body(directory)
    }

    func payload(_ index: Int, size: Int = 100) -> [UInt8] {
        Array("record-\(index)|".utf8) + [UInt8](repeating: UInt8(index % 251), count: size)
    }
}
