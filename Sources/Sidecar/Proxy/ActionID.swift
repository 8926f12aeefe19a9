import LedgerProtocol

/// Action ids are UUIDv7: time-ordered, so records of one sidecar sort by arrival, and unique without coordination.
package enum ActionID {
    package static func make() -> String {
        var random = SystemRandomNumberGenerator()
        return make(unixMillis: UInt64(WallClock.nowMicros() / 1000), random: &random)
    }

    package static func make<R: RandomNumberGenerator>(unixMillis: UInt64, random: inout R) -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<6 { bytes[i] = UInt8(truncatingIfNeeded: unixMillis >> (8 * (5 - UInt64(i)))) }
        let high = random.next() as UInt64
        let low = random.next() as UInt64
        for i in 6..<16 {
            bytes[i] = UInt8(truncatingIfNeeded: i < 8 ? high >> (8 * UInt64(i)) : low >> (8 * UInt64(i - 8)))
        }
        bytes[6] = 0x70 | (bytes[6] & 0x0F)
        bytes[8] = 0x80 | (bytes[8] & 0x3F)
        let hex = Array("0123456789abcdef")
        var out = ""
        out.reserveCapacity(36)
        for (i, byte) in bytes.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { out.append("-") }
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0F)])
        }
        return out
    }
}
