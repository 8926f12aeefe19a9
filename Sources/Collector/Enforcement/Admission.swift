/// What admission knows about a call before it is forwarded (the ADMIT message, by field).
package struct AdmissionRequest: Sendable, Equatable {
    package var actionID: String
    package var keys: SpendLedger.Keys
    package var model: String
    package var bodyBytes: Int
    package var maxTokens: Int?

    package init(actionID: String, keys: SpendLedger.Keys, model: String, bodyBytes: Int, maxTokens: Int? = nil) {
        self.actionID = actionID
        self.keys = keys
        self.model = model
        self.bodyBytes = bodyBytes
        self.maxTokens = maxTokens
    }
}

/// The answer to an admission request.
package enum AdmissionDecision: Sendable, Equatable {
    /// Forward the call; `reserved` is held against its budgets until its record settles it.
    case admit(reserved: Nanodollars)
    case refuse(Refusal)
}

/// Why a call may not go upstream; its kinds are the refusal types of docs/reference.md, "Refusals".
package struct Refusal: Sendable, Equatable, Error {
    package enum Kind: String, Sendable {
        case rateLimit = "rate_limit_exceeded"
        case budget = "budget_exceeded"
    }

    package var kind: Kind
    /// Names the limit, its value, the current value and the key.
    package var message: String
    /// Seconds until a retry can pass: the rate window's slide, or the next UTC midnight for daily budgets.
    package var retryAfterSeconds: Int?

    package init(kind: Kind, message: String, retryAfterSeconds: Int?) {
        self.kind = kind
        self.message = message
        self.retryAfterSeconds = retryAfterSeconds
    }
}
