/// Money in billionths of a dollar. Budgets, spend and reservations are summed as integers so that five
/// reservations of a fifth of a budget fill it exactly, with no floating-point drift.
package struct Nanodollars: Sendable, Hashable, Comparable, AdditiveArithmetic, CustomStringConvertible {
    package var value: Int64

    package init(_ value: Int64) { self.value = value }

    /// Rounds to the nearest nanodollar (eight decimals of a dollar are kept exactly, as a cheap call's `cost_usd`
    /// needs: docs/reference.md, "Records"). An amount beyond what 64 bits hold (about 9.2 billion dollars) saturates;
    /// NaN is zero.
    package init(usd: Double) {
        let scaled = (usd * 1e9).rounded()
        if scaled.isNaN {
            value = 0
        } else if scaled >= Double(Int64.max) {
            value = .max
        } else if scaled <= Double(Int64.min) {
            value = .min
        } else {
            value = Int64(scaled)
        }
    }

    package static let zero = Nanodollars(0)
    package var usd: Double { Double(value) / 1e9 }

    /// Saturating: a sum of spends never wraps round to a small or negative amount that a budget would admit.
    package static func + (a: Self, b: Self) -> Self {
        let (sum, overflow) = a.value.addingReportingOverflow(b.value)
        return Self(overflow ? (b.value < 0 ? .min : .max) : sum)
    }

    /// Saturating, as `+`.
    package static func - (a: Self, b: Self) -> Self {
        let (difference, overflow) = a.value.subtractingReportingOverflow(b.value)
        return Self(overflow ? (b.value < 0 ? .max : .min) : difference)
    }
    package static func < (a: Self, b: Self) -> Bool { a.value < b.value }

    /// Dollars with four decimals, or more when the amount is smaller than that shows.
    package var description: String {
        let dollars = usd
        let places = abs(dollars) >= 0.0001 || dollars == 0 ? 4 : 8
        return "$" + Self.fixed(dollars, places: places)
    }

    private static func fixed(_ value: Double, places: Int) -> String {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = Int64((abs(value) * scale).rounded())
        let whole = scaled / Int64(scale)
        var fraction = String(scaled % Int64(scale))
        while fraction.count < places { fraction = "0" + fraction }
        return (value < 0 ? "-" : "") + "\(whole).\(fraction)"
    }
}
