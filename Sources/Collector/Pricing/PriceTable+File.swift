import Foundation

extension PriceTable {
    /// The largest price file read; LiteLLM's full table is about 1.5 MB.
    static let maximumFileSize = 64 << 20

    /// The table for `AGENTLEDGER_PRICING_FILE`: `base` with the file's prices added, a file price replacing the
    /// base price of the same (canonical) name. Its version is `base.version` plus `+file:` and the file's own
    /// `version` (if any) and 16 hex digits of a 64-bit FNV-1a hash of the file's bytes, e.g.
    /// `builtin-2026-11+file:acme-3:0123456789abcdef`, so every record names the prices that priced it.
    package static func loading(fileAt path: String, over base: PriceTable = .builtIn) throws(PricingFileError) -> PriceTable {
        try parsing(try contents(ofFileAt: path), path: path, over: base)
    }

    /// `loading(fileAt:over:)` for bytes already read; `path` only names the file in errors.
    static func parsing(_ bytes: [UInt8], path: String, over base: PriceTable) throws(PricingFileError) -> PriceTable {
        let file: PricingFile
        do {
            file = try PricingFile(parsing: bytes)
        } catch {
            throw PricingFileError(path: path, problem: error)
        }
        let hash = String(fnv1a64(bytes), radix: 16)
        let tag = String(repeating: "0", count: 16 - hash.count) + hash
        let version = base.version + "+file:" + (file.name.map { $0 + ":" } ?? "") + tag
        return PriceTable(version: version, prices: base.prices.merging(file.prices) { _, fromFile in fromFile })
    }

    /// The 64-bit FNV-1a hash: stable across runs and platforms, unlike `Hasher`.
    static func fnv1a64(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    private static func contents(ofFileAt path: String) throws(PricingFileError) -> [UInt8] {
        let fail = { (reason: String) in PricingFileError(path: path, problem: .unreadable(reason)) }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw fail("no such file") }
        guard !isDirectory.boolValue else { throw fail("it is a directory") }
        guard FileManager.default.isReadableFile(atPath: path), let handle = FileHandle(forReadingAtPath: path) else {
            throw fail("permission denied")
        }
        defer { try? handle.close() }
        let data: Data?
        do {
            data = try handle.read(upToCount: maximumFileSize + 1)
        } catch {
            throw fail(String(describing: error))
        }
        let bytes = [UInt8](data ?? Data())
        guard bytes.count <= maximumFileSize else {
            throw PricingFileError(path: path, problem: .tooLarge(limit: maximumFileSize))
        }
        return bytes
    }
}
