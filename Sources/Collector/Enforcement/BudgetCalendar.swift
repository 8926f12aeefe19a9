import Foundation

/// Where calendar budget periods begin and end (docs/operations.md, "Budgets and rate limits"): a day starts at
/// midnight, a week at Monday's midnight, a month at the midnight of its first day, all in one time zone (`time_zone`
/// in `AGENTLEDGER_POLICY_FILE`; UTC by default). Instants are microseconds since the Unix epoch.
///
/// A UTC day is plain arithmetic; the rest asks Foundation's Gregorian calendar, which knows daylight saving time (a
/// day in `Europe/Berlin` is 23 or 25 hours twice a year). The ledger asks only when a period ends, not per call. No
/// instant traps: one outside what the calendar can place gets the widest period (`Int64.min` to `Int64.max`).
package struct BudgetCalendar: Sendable, Equatable {
    package let timeZone: TimeZone
    /// The zone's name as configured (Foundation may report `UTC` as `GMT`).
    package let name: String
    /// A zone always at UTC (no offset, no daylight saving time): days are plain arithmetic.
    private let isUTC: Bool

    package static let utc = BudgetCalendar(timeZone: TimeZone(identifier: "UTC")!, name: "UTC")

    package init(timeZone: TimeZone, name: String? = nil) {
        self.timeZone = timeZone
        self.name = name ?? timeZone.identifier
        isUTC = timeZone.secondsFromGMT() == 0 && timeZone.nextDaylightSavingTimeTransition == nil
    }

    /// The calendar period of kind `period` holding `micros`: its start (inclusive) and end (exclusive). A lifetime
    /// has no bounds.
    package func bounds(of period: BudgetPeriod, containing micros: Int64) -> (start: Int64, end: Int64) {
        let widest: (start: Int64, end: Int64) = (.min, .max)
        switch period {
        case .lifetime:
            return widest
        case .day where isUTC:
            let start = SpendLedger.dayStart(of: micros)
            guard start != .min else { return widest }
            let (end, overflow) = start.addingReportingOverflow(SpendLedger.microsPerDay)
            return (start, overflow ? .max : end)
        case .day, .week, .month:
            // Foundation places dates within about ±10,000 years reliably; anything further is no real call.
            guard micros > -250_000_000_000_000_000 && micros < 250_000_000_000_000_000 else { return widest }
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = timeZone
            calendar.firstWeekday = 2  // Monday, as ISO 8601 counts weeks
            calendar.minimumDaysInFirstWeek = 4
            let component: Calendar.Component =
                switch period {
                case .day: .day
                case .week: .weekOfYear
                default: .month
                }
            let date = Date(timeIntervalSince1970: Double(micros) / 1_000_000)
            guard let interval = calendar.dateInterval(of: component, for: date),
                let start = Self.micros(interval.start), let end = Self.micros(interval.end), start <= micros, micros < end
            else { return widest }
            return (start, end)
        }
    }

    private static func micros(_ date: Date) -> Int64? {
        let value = (date.timeIntervalSince1970 * 1_000_000).rounded()
        return value.isFinite ? Int64(exactly: value) : nil
    }
}
