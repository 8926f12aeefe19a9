/// The dashboard's files as the binary carries them: `Dashboard/Assets/` is compiled in by SwiftPM
/// (`.embedInCode` in Package.swift, as `PackageResources`). A file added there is listed here too;
/// `DashboardAssetsTests` fails until it is.
package enum DashboardAssets {
    static let all: [DashboardAsset] = [
        DashboardAsset(name: "api.js", bytes: PackageResources.api_js),
        DashboardAsset(name: "app.css", bytes: PackageResources.app_css),
        DashboardAsset(name: "budgets.js", bytes: PackageResources.budgets_js),
        DashboardAsset(name: "calls.js", bytes: PackageResources.calls_js),
        DashboardAsset(name: "charts.js", bytes: PackageResources.charts_js),
        DashboardAsset(name: "costs.js", bytes: PackageResources.costs_js),
        DashboardAsset(name: "dom.js", bytes: PackageResources.dom_js),
        DashboardAsset(name: "favicon.svg", bytes: PackageResources.favicon_svg),
        DashboardAsset(name: "fleet.js", bytes: PackageResources.fleet_js),
        DashboardAsset(name: "flow.js", bytes: PackageResources.flow_js),
        DashboardAsset(name: "index.html", bytes: PackageResources.index_html),
        DashboardAsset(name: "live.js", bytes: PackageResources.live_js),
        DashboardAsset(name: "main.js", bytes: PackageResources.main_js),
        DashboardAsset(name: "overview.js", bytes: PackageResources.overview_js),
        DashboardAsset(name: "search.js", bytes: PackageResources.search_js),
        DashboardAsset(name: "session.js", bytes: PackageResources.session_js),
        DashboardAsset(name: "sessions.js", bytes: PackageResources.sessions_js),
        DashboardAsset(name: "sidecars.js", bytes: PackageResources.sidecars_js),
        DashboardAsset(name: "timeline.js", bytes: PackageResources.timeline_js),
    ]

    private static let byName: [String: DashboardAsset] = Dictionary(
        uniqueKeysWithValues: all.map { ($0.name, $0) })

    static var index: DashboardAsset { byName["index.html"]! }

    package static func named(_ name: String) -> DashboardAsset? { byName[name] }
}
