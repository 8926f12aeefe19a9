// Generated from Dashboard/Assets/favicon.svg by DashboardAssetsTests. Edit that file, then run
// AGENTLEDGER_REGENERATE_DASHBOARD=1 swift test --filter DashboardAssetsTests

extension DashboardAssets {
    static let faviconSVG = DashboardAsset(
        name: "favicon.svg",
        text: ####"""
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">
              <rect width="32" height="32" rx="6" fill="#111827"/>
              <path d="M8 22 L14 10 L18 18 L24 8" stroke="#60a5fa" stroke-width="3" fill="none" stroke-linecap="round"/>
            </svg>

            """####)
}
