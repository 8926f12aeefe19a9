/// Money in billionths of a dollar. Budgets, spend and reservations are summed as integers so that five
/// reservations of a fifth of a budget fill it exactly, with no floating-point drift.
package struct Nanodollars: Sendable, Hashable, Comparable, AdditiveArithmetic, CustomStringConvertible {
    package var value: Int64

    package init(_ value: Int64) { self.value = value }

    /// Rounds to the nearest nanodollar (eight decimals of a dollar are kept exactly, as the contract asks).
    package init(usd: Double) {
        value = usd.isFinite ? Int64((usd * 1e9).rounded()) : 0
    }

    package static let zero = Nanodollars(0)
    package var usd: Double { Double(value) / 1e9 }

    package static func + (a: Self, b: Self) -> Self { Self(a.value &+ b.value) }
    package static func - (a: Self, b: Self) -> Self { Self(a.value &- b.value) }
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
