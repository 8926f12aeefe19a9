/// Exact sums of USD amounts. A call's `cost_usd` has at most ten decimals (`ModelPrice.dollars`), so a sum of costs
/// is done in whole units of 10⁻¹⁰ USD and handed back as the `Double` nearest that exact decimal, which prints as
/// that decimal (`0.0000644`, never `6.439999999999998e-05`). The stores sum the same way in SQL (SQLite: integers of
/// these units; Postgres: `numeric`), so every total in storage and in every API answer is the exact decimal sum.
package enum Money {
    /// Units of 10⁻¹⁰ USD in a dollar.
    static let unitsPerDollar = 10_000_000_000.0

    /// `usd` in units, rounded to the nearest; saturating beyond 64 bits (about 920 million dollars); NaN is 0.
    package static func units(_ usd: Double) -> Int64 {
        let scaled = (usd * unitsPerDollar).rounded()
        if scaled.isNaN { return 0 }
        if scaled >= Double(Int64.max) { return .max }
        if scaled <= Double(Int64.min) { return .min }
        return Int64(scaled)
    }

    package static func usd(units: Int64) -> Double { Double(units) / unitsPerDollar }

    /// `a + b`, exactly to ten decimals, saturating.
    package static func sum(_ a: Double, _ b: Double) -> Double {
        let (total, overflow) = units(a).addingReportingOverflow(units(b))
        return usd(units: overflow ? (b < 0 ? .min : .max) : total)
    }

    /// An amount summed elsewhere (by SQL in floating point, or read back) brought to its ten-decimal value.
    package static func exact(_ usd: Double) -> Double { Money.usd(units: units(usd)) }
}
