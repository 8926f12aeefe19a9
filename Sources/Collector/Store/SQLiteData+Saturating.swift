import SQLiteNIO

extension SQLiteData {
    /// The value as an integer, never trapping: SQLite turns an integer sum that overflows into a REAL, and
    /// sqlite-nio's `integer` traps converting a REAL beyond 64 bits. Such a value saturates; NaN is nil.
    var saturatingInteger: Int? {
        guard case .float(let double) = self else { return integer }
        if double.isNaN { return nil }
        if double >= Double(Int.max) { return .max }
        if double <= Double(Int.min) { return .min }
        return Int(double)
    }
}
