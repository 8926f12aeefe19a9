/// What a live subscriber receives, in order.
package enum LiveEvent: Sendable, Equatable {
    /// A newly stored call.
    case call(CallRecord)
    /// The subscriber fell behind: this many calls, older than every call still queued for it, were dropped.
    case missed(Int)
}
