/// Parses the times `since` and `until` accept: epoch seconds (`1775217600`, `1775217600.5`) or ISO-8601
/// (`2026-04-03`, `2026-04-03T12:00`, `2026-04-03T12:00:00.123456Z`, `…+02:00`); no zone means UTC, a date alone
/// means its midnight. A space before the offset counts as `+`, since form encoding turns `+` into a space.
enum TimeParameter {
    /// Microseconds since the Unix epoch, or nil when `text` is neither form or out of range.
    static func micros(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return nil }
        return epochMicros(bytes) ?? isoMicros(bytes)
    }

    private static func epochMicros(_ bytes: [UInt8]) -> Int64? {
        var index = 0
        let negative = bytes[0] == UInt8(ascii: "-")
        if negative { index = 1 }
        guard let seconds = number(bytes, &index, minDigits: 1, maxDigits: 12) else { return nil }
        var fraction: Int64 = 0
        if index < bytes.count {
            guard bytes[index] == UInt8(ascii: "."), let micros = fractionMicros(bytes, &index) else { return nil }
            fraction = micros
        }
        guard index == bytes.count else { return nil }
        let value = seconds * 1_000_000 + fraction
        return negative ? -value : value
    }

    private static func isoMicros(_ bytes: [UInt8]) -> Int64? {
        var index = 0
        guard let year = number(bytes, &index, minDigits: 4, maxDigits: 4), expect(bytes, &index, "-"),
            let month = number(bytes, &index, minDigits: 2, maxDigits: 2), expect(bytes, &index, "-"),
            let day = number(bytes, &index, minDigits: 2, maxDigits: 2), (1...12).contains(month),
            (1...daysIn(month: month, year: year)).contains(day)
        else { return nil }
        var secondOfDay: Int64 = 0
        var fraction: Int64 = 0
        var offsetSeconds: Int64 = 0
        if index < bytes.count {
            guard [UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")].contains(bytes[index]) else { return nil }
            index += 1
            guard let hour = number(bytes, &index, minDigits: 2, maxDigits: 2), expect(bytes, &index, ":"),
                let minute = number(bytes, &index, minDigits: 2, maxDigits: 2), hour < 24, minute < 60
            else { return nil }
            var second: Int64 = 0
            if index < bytes.count, bytes[index] == UInt8(ascii: ":") {
                index += 1
                guard let value = number(bytes, &index, minDigits: 2, maxDigits: 2), value < 60 else { return nil }
                second = value
                if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                    guard let micros = fractionMicros(bytes, &index) else { return nil }
                    fraction = micros
                }
            }
            secondOfDay = hour * 3600 + minute * 60 + second
            if index < bytes.count {
                guard let offset = zoneOffset(bytes, &index) else { return nil }
                offsetSeconds = offset
            }
        }
        guard index == bytes.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        return (days * 86_400 + secondOfDay - offsetSeconds) * 1_000_000 + fraction
    }

    /// `Z`, or `±HH`, `±HHMM`, `±HH:MM` (a space standing for `+`), as seconds east of UTC.
    private static func zoneOffset(_ bytes: [UInt8], _ index: inout Int) -> Int64? {
        if bytes[index] == UInt8(ascii: "Z") || bytes[index] == UInt8(ascii: "z") {
            index += 1
            return 0
        }
        let sign: Int64
        switch bytes[index] {
        case UInt8(ascii: "+"), UInt8(ascii: " "): sign = 1
        case UInt8(ascii: "-"): sign = -1
        default: return nil
        }
        index += 1
        guard let hours = number(bytes, &index, minDigits: 2, maxDigits: 2), hours < 24 else { return nil }
        var minutes: Int64 = 0
        if index < bytes.count {
            if bytes[index] == UInt8(ascii: ":") { index += 1 }
            guard let value = number(bytes, &index, minDigits: 2, maxDigits: 2), value < 60 else { return nil }
            minutes = value
        }
        return sign * (hours * 3600 + minutes * 60)
    }

    /// Digits after a `.`, as microseconds; digits past the sixth are dropped.
    private static func fractionMicros(_ bytes: [UInt8], _ index: inout Int) -> Int64? {
        index += 1
        let start = index
        var micros: Int64 = 0
        while index < bytes.count, let digit = digit(bytes[index]) {
            if index - start < 6 { micros = micros * 10 + digit }
            index += 1
        }
        guard index > start else { return nil }
        for _ in min(index - start, 6)..<6 { micros *= 10 }
        return micros
    }

    private static func number(_ bytes: [UInt8], _ index: inout Int, minDigits: Int, maxDigits: Int) -> Int64? {
        let start = index
        var value: Int64 = 0
        while index < bytes.count, index - start < maxDigits, let digit = digit(bytes[index]) {
            value = value * 10 + digit
            index += 1
        }
        return index - start >= minDigits ? value : nil
    }

    private static func digit(_ byte: UInt8) -> Int64? {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) ? Int64(byte - UInt8(ascii: "0")) : nil
    }

    private static func expect(_ bytes: [UInt8], _ index: inout Int, _ character: Unicode.Scalar) -> Bool {
        guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
        index += 1
        return true
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Howard Hinnant's days-from-civil algorithm (proleptic Gregorian), the inverse of `ISOTimestamp.civilDate`.
    private static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
