/// The dashboard's files as the binary carries them. The text lives in `Dashboard/Assets/` and is copied into
/// `Dashboard/Embedded/` by `AGENTLEDGER_REGENERATE_DASHBOARD=1 swift test --filter DashboardAssetsTests`; the
/// same test fails when the two differ.
package enum DashboardAssets {
    private static let byName: [String: DashboardAsset] = Dictionary(
        uniqueKeysWithValues: all.map { ($0.name, $0) })

    static var index: DashboardAsset { byName["index.html"]! }

    package static func named(_ name: String) -> DashboardAsset? { byName[name] }
}
