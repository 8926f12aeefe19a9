import Foundation
import Testing

@testable import Collector

/// The embedded dashboard matches `Sources/Collector/Dashboard/Assets`, and its scripts never parse data as HTML.
///
/// `AGENTLEDGER_REGENERATE_DASHBOARD=1 swift test --filter DashboardAssetsTests` rewrites the embedded copies.
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

    @Test func embeddedFilesMatchTheAssetsFolder() throws {
        let files = try Self.sourceFiles()
        let generated = try EmbeddedAssets.sources(for: files)
        let folder = Self.dashboard.appendingPathComponent("Embedded")
        if ProcessInfo.processInfo.environment["AGENTLEDGER_REGENERATE_DASHBOARD"] == "1" {
            try? FileManager.default.removeItem(at: folder)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for (name, text) in generated {
                try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
            }
            return
        }
        let stale = "stale: run AGENTLEDGER_REGENERATE_DASHBOARD=1 swift test --filter DashboardAssetsTests"
        let embeddedNames = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(embeddedNames == generated.map(\.name).sorted(), "\(stale)")
        for (name, text) in generated {
            let current = try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            #expect(current == text, "Embedded/\(name) is \(stale)")
        }
        for (name, text) in files {
            #expect(DashboardAssets.named(name)?.text == text, "\(name) is \(stale)")
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

    @Test func contentTypesFollowTheExtension() {
        #expect(DashboardAssets.named("main.js")?.contentType == "text/javascript; charset=utf-8")
        #expect(DashboardAssets.named("app.css")?.contentType == "text/css; charset=utf-8")
        #expect(DashboardAssets.named("index.html")?.contentType == "text/html; charset=utf-8")
        #expect(DashboardAssets.named("favicon.svg")?.contentType == "image/svg+xml")
    }
}

/// Writes each asset as a Swift raw string literal, one file per asset plus the list of them.
enum EmbeddedAssets {
    struct Unembeddable: Error, CustomStringConvertible {
        var description: String
    }

    static func identifier(_ fileName: String) -> String {
        let parts = fileName.split(separator: ".")
        let stem = parts.first.map { $0.filter { $0.isLetter || $0.isNumber } } ?? ""
        return stem + parts.dropFirst().map { $0.uppercased() }.joined()
    }

    static func sources(for files: [(name: String, text: String)]) throws -> [(name: String, text: String)] {
        let delimiter = "####"
        var sources: [(name: String, text: String)] = []
        for (name, text) in files {
            guard !text.contains("\"\"\"" + delimiter), !text.contains("\\" + delimiter), !text.contains("\r") else {
                throw Unembeddable(description: "\(name) holds a sequence that would end the Swift literal")
            }
            let indented = text.split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.isEmpty ? "" : "            " + $0 }.joined(separator: "\n")
            let swift = """
                // Generated from Dashboard/Assets/\(name) by DashboardAssetsTests. Edit that file, then run
                // AGENTLEDGER_REGENERATE_DASHBOARD=1 swift test --filter DashboardAssetsTests

                extension DashboardAssets {
                    static let \(identifier(name)) = DashboardAsset(
                        name: "\(name)",
                        text: \(delimiter)\"\"\"
                \(indented)
                            \"\"\"\(delimiter))
                }

                """
            sources.append(("DashboardAssets+\(identifier(name)).swift", swift))
        }
        let list = files.map { "        \(identifier($0.name))," }.joined(separator: "\n")
        let all = """
            // Generated by DashboardAssetsTests: every file of Dashboard/Assets.

            extension DashboardAssets {
                static let all: [DashboardAsset] = [
            \(list)
                ]
            }

            """
        sources.append(("DashboardAssets+All.swift", all))
        return sources
    }
}
