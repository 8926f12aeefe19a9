import LedgerProtocol

/// Action ids are UUIDv7: time-ordered, so records of one sidecar sort by arrival, and unique without coordination.
package enum ActionID {
    package static func make() -> String {
        var random = PooledRandom()
        return make(unixMillis: UInt64(WallClock.nowMicros() / 1000), random: &random)
    }

    package static func make<R: RandomNumberGenerator>(unixMillis: UInt64, random: inout R) -> String {
        let high = random.next() as UInt64
        let low = random.next() as UInt64
        return String(unsafeUninitializedCapacity: 36) { out in
            var position = 0
            for i in 0..<16 {
                var byte: UInt8
                if i < 6 {
                    byte = UInt8(truncatingIfNeeded: unixMillis >> (8 * UInt64(5 - i)))
                } else {
                    byte = UInt8(truncatingIfNeeded: i < 8 ? high >> (8 * UInt64(i)) : low >> (8 * UInt64(i - 8)))
                }
                if i == 6 { byte = 0x70 | (byte & 0x0F) }
                if i == 8 { byte = 0x80 | (byte & 0x3F) }
                if i == 4 || i == 6 || i == 8 || i == 10 {
                    out[position] = UInt8(ascii: "-")
                    position += 1
                }
                out[position] = hexDigit(byte >> 4)
                out[position + 1] = hexDigit(byte & 0x0F)
                position += 2
            }
            return position
        }
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }
}
