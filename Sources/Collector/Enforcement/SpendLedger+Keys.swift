/// Who a reservation or a settled call is charged to, and how a reservation travels to the next enforcer.
extension SpendLedger {
    /// Who a reservation or a settled call is charged to.
    package struct Keys: Sendable, Equatable {
        package var sessionID: String?
        package var agentName: String?
        package var userID: String?
        package var appID: String?
        /// The model the call asked for, as its request names it.
        package var model: String?
        /// `x-agentledger-environment`: in an ADMIT only on a version-2 link (docs/protocol.md).
        package var environment: String?

        package init(
            sessionID: String? = nil, agentName: String? = nil, userID: String? = nil, appID: String? = nil,
            model: String? = nil, environment: String? = nil
        ) {
            self.sessionID = sessionID
            self.agentName = agentName
            self.userID = userID
            self.appID = appID
            self.model = model
            self.environment = environment
        }

        /// The key the call counts under in a scope, nil when it has none there. Every call counts for the fleet,
        /// under the empty key.
        package subscript(scope: BudgetScope) -> String? {
            switch scope {
            case .session: sessionID
            case .agent: agentName
            case .user: userID
            case .app: appID
            case .environment: environment
            case .model: model
            case .fleet: ""
            }
        }
    }
}

/// One reservation as the enforcer holds it, in the form it is handed to the next enforcer through Postgres.
package struct HeldReservation: Sendable, Equatable, Codable {
    package var actionID: String
    /// Nanodollars.
    package var amount: Int64
    package var sessionID: String?
    package var agentName: String?
    package var userID: String?
    package var appID: String?
    package var model: String?
    package var environment: String?
    /// When it was made, microseconds since the epoch.
    package var madeAt: Int64

    enum CodingKeys: String, CodingKey {
        case actionID = "a", amount = "n", sessionID = "s", agentName = "g", userID = "u", appID = "p", model = "m"
        case environment = "e"
        case madeAt = "t"
    }

    package init(actionID: String, amount: Int64, keys: SpendLedger.Keys, madeAt: Int64) {
        self.actionID = actionID
        self.amount = amount
        sessionID = keys.sessionID
        agentName = keys.agentName
        userID = keys.userID
        appID = keys.appID
        model = keys.model
        environment = keys.environment
        self.madeAt = madeAt
    }

    init(actionID: String, reservation: SpendLedger.Reservation) {
        self.init(actionID: actionID, amount: reservation.amount.value, keys: reservation.keys, madeAt: reservation.madeAt)
    }

    package var keys: SpendLedger.Keys {
        SpendLedger.Keys(
            sessionID: sessionID, agentName: agentName, userID: userID, appID: appID, model: model,
            environment: environment)
    }
}
