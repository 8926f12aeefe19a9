import Hummingbird
import LedgerProtocol

/// `GET /api/budgets` (docs/reference.md, "Budgets"): every budget this collector enforces with the spend and
/// reservations of its keys, closest to its limit first, and every rate limit with its current window. The same
/// answer as the `budgets` MCP tool on `/mcp`.
package struct BudgetRoutes: Sendable {
    let enforcer: Enforcer

    package init(enforcer: Enforcer) {
        self.enforcer = enforcer
    }

    package func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.get("api/budgets") { [enforcer] request, _ in
            let keys = try QueryParameters(request.uri.query).integer("limit", default: BudgetReport.defaultKeys, range: 1...500)
            return try JSONResponse.make(BudgetReport.live(enforcer, keys: keys, now: WallClock.nowMicros()))
        }
    }
}
