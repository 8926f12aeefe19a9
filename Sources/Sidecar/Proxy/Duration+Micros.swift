extension Duration {
    /// Whole microseconds, the unit of the captured call's durations.
    var micros: Int64 { components.seconds * 1_000_000 + components.attoseconds / 1_000_000_000_000 }
}
