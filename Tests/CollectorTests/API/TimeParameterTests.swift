import Testing

@testable import Collector

/// The times `since` and `until` accept, and what they refuse.
@Suite struct TimeParameterTests {
    static let noonUTC: Int64 = 1_775_217_600_000_000  // 2026-04-03T12:00:00Z

    @Test(arguments: [
        ("1775217600", noonUTC), ("1775217600.5", noonUTC + 500_000), ("2026-04-03T12:00:00Z", noonUTC),
        ("2026-04-03T12:00:00.123456789Z", noonUTC + 123_456), ("2026-04-03T12:00", noonUTC),
        ("2026-04-03 12:00:00", noonUTC), ("2026-04-03T14:00:00+02:00", noonUTC), ("2026-04-03T14:00:00 02:00", noonUTC),
        ("2026-04-03T07:30:00-0430", noonUTC), ("2026-04-03", noonUTC - 43_200_000_000), ("0", 0),
        ("2024-02-29T00:00:00Z", 1_709_164_800_000_000), ("1969-12-31T23:59:59Z", -1_000_000),
    ])
    func acceptedForms(text: String, micros: Int64) {
        #expect(TimeParameter.micros(text) == micros)
    }

    @Test(arguments: [
        "", "yesterday", "2026-13-01", "2026-02-30", "2025-02-29", "2026-04-03T24:00:00Z", "2026-04-03T12:60",
        "2026-04-03T12:00:00+25:00", "2026-04-03T12:00:00Q", "12.", "1e9", "2026-4-3", "1775217600 ", "--5",
    ])
    func refusedForms(text: String) {
        #expect(TimeParameter.micros(text) == nil)
    }
}
