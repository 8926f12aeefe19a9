import Testing

@testable import Collector

@Suite struct NanodollarsTests {
    @Test func fiveFifthsOfABudgetAreExactlyTheBudget() {
        let fifth = Nanodollars(usd: 0.1 / 5)
        #expect(fifth + fifth + fifth + fifth + fifth == Nanodollars(usd: 0.1))
    }

    @Test func amountsPrintWithFourDecimalsOrEightWhenSmaller() {
        #expect(Nanodollars(usd: 1.5).description == "$1.5000")
        #expect(Nanodollars(usd: 0.00001).description == "$0.00001000")
        #expect(Nanodollars.zero.description == "$0.0000")
        #expect(Nanodollars(usd: .nan) == .zero)
    }
}
