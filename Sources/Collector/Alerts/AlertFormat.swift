import Foundation

/// Numbers as alert messages show them to people.
enum AlertFormat {
    /// `$0.1842`; small amounts keep six decimals so they never read as `$0.0000`.
    static func dollars(_ amount: Double) -> String {
        let magnitude = abs(amount)
        return "$" + String(format: magnitude > 0 && magnitude < 0.001 ? "%.6f" : "%.4f", amount)
    }

    /// `67%` or `66.7%` for a ratio of 0...1.
    static func percent(_ ratio: Double) -> String {
        let tenths = (ratio * 1000).rounded() / 10
        return tenths == tenths.rounded() ? String(format: "%.0f%%", tenths) : String(format: "%.1f%%", tenths)
    }

    /// `1234ms`.
    static func milliseconds(_ value: Double) -> String {
        String(format: "%.0fms", value)
    }
}
