import Foundation
import Testing

@testable import Collector

/// The binary serves every file of `Sources/Collector/Dashboard/Assets` as it is, and its scripts never parse data as
/// HTML.
@Suite struct DashboardAssetsTests {
    static let dashboard = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/Collector/Dashboard")

    static func sourceFiles() throws -> [(name: String, text: String)] {
        let folder = dashboard.appendingPathComponent("Assets")
        return try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted().map { name in
            (name, try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8))
        }
    }

    @Test func everyFileOfTheAssetsFolderIsServedAsItIs() throws {
        let files = try Self.sourceFiles()
        #expect(
            DashboardAssets.all.map(\.name).sorted() == files.map(\.name), "list every file of Assets/ in DashboardAssets.all")
        for (name, text) in files {
            #expect(DashboardAssets.named(name)?.text == text, "\(name) differs from what the binary serves")
        }
    }

    @Test func scriptsBuildTheDOMWithoutParsingHTML() throws {
        let sinks = ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "srcdoc"]
        for (name, text) in try Self.sourceFiles() where name.hasSuffix(".js") || name.hasSuffix(".html") {
            for sink in sinks {
                #expect(!text.contains(sink), "\(name) uses \(sink)")
            }
        }
    }

    @Test func htmlHasNoInlineScriptOrStyle() throws {
        let page = try #require(DashboardAssets.named("index.html")).text
        #expect(!page.contains("<script>"))
        #expect(!page.contains("style="))
        #expect(
            page.range(of: #"\son[a-z]+\s*="#, options: .regularExpression) == nil,
            "inline event handlers break the content security policy")
    }

    /// The page names every module for preloading, so the browser fetches them together, not one import depth at a
    /// time.
    @Test func thePagePreloadsEveryModule() throws {
        let page = try #require(DashboardAssets.named("index.html")).text
        for (name, _) in try Self.sourceFiles() where name.hasSuffix(".js") && name != "main.js" {
            #expect(page.contains(#"<link rel="modulepreload" href="assets/\#(name)">"#), "\(name) is not preloaded")
        }
    }

    @Test func contentTypesFollowTheExtension() {
        #expect(DashboardAssets.named("main.js")?.contentType == "text/javascript; charset=utf-8")
        #expect(DashboardAssets.named("app.css")?.contentType == "text/css; charset=utf-8")
        #expect(DashboardAssets.named("index.html")?.contentType == "text/html; charset=utf-8")
        #expect(DashboardAssets.named("favicon.svg")?.contentType == "image/svg+xml")
    }
}
