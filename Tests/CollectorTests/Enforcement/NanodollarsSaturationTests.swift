import Testing

@testable import Collector

/// Spend sums that reach the ends of 64 bits stay there instead of trapping or wrapping round to an amount a budget
/// would admit (issue 14 item 2: a token count near 4e18 trapped in the nanodollar math).
@Suite struct NanodollarsSaturationTests {
    @Test func amountsBeyondSixtyFourBitsSaturate() {
        #expect(Nanodollars(usd: 4e18).value == .max)
        #expect(Nanodollars(usd: -4e18).value == .min)
        #expect(Nanodollars(usd: .infinity).value == .max)
        #expect(Nanodollars(usd: 9e9).value == 9_000_000_000_000_000_000)
    }

    @Test func sumsSaturateInsteadOfWrapping() {
        let huge = Nanodollars(.max - 1)
        #expect(huge + Nanodollars(usd: 1) == Nanodollars(.max))
        #expect((huge + huge) > Nanodollars(usd: 1_000))
        #expect(Nanodollars(.min + 1) - Nanodollars(usd: 1) == Nanodollars(.min))
        #expect(Nanodollars(usd: 2) - Nanodollars(usd: 0.5) == Nanodollars(usd: 1.5))
    }

    @Test func aSaturatedSpendStillPrints() {
        #expect(Nanodollars(.max).description.hasPrefix("$9223372036."))
    }
}
