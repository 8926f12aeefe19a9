import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Collector

/// `/export/{session_id}/report`: printable, self-contained HTML in which no user-supplied text is markup.
@Suite struct AuditReportTests {
    @Test func reportIsSelfContainedPrintableHTML() async throws {
        try await ExportTesting.withAPI(ExportTesting.session, hmacKey: "k") { client in
            let integrity = try await client.execute(uri: "/export/s1", method: .get) {
                try JSONReader.parse(ExportTesting.bytes($0))["export"]?["integrity"]?.stringValue
            }
            let hash = try #require(integrity)
            try await client.execute(uri: "/export/s1/report", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(response.headers[.contentSecurityPolicy]?.contains("default-src 'none'") == true)
                let html = ExportTesting.string(response)
                #expect(html.hasPrefix("<!DOCTYPE html>"))
                #expect(html.contains("@media print"))
                #expect(html.contains(hash), "the integrity hash of the JSON export")
                #expect(html.contains("hmac-sha256:"))
                for external in ["<script", "<link", "src=\"http", "href=", "url("] {
                    #expect(!html.contains(external), "\(external)")
                }
                for part in ["Call 1", "Call 2", "c1", "gpt-4o", "$0.00001", "$0.0000001", "12.345 ms", "Tool results"] {
                    #expect(html.contains(part), "\(part)")
                }
            }
        }
    }

    @Test func everyUserSuppliedStringIsEscaped() async throws {
        try await ExportTesting.withAPI(ExportTesting.session) { client in
            let html = try await client.execute(uri: "/export/s1/report", method: .get) { ExportTesting.string($0) }
            for raw in ["<script>", "<b>", "<img", "<iframe", "<svg", "</pre><img"] {
                #expect(!html.contains(raw), "\(raw) must not reach the page as markup")
            }
            for escaped in [
                "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; &amp; café",
                "You are &lt;b&gt;&quot;helpful&quot;&lt;/b&gt; &amp; &#39;kind&#39;",
                "&lt;/pre&gt;&lt;img src=x onerror=alert(1)&gt;",
                "&lt;iframe src=&quot;https://evil.example&quot;&gt;",
                "&lt;svg onload=alert(2)&gt;",
            ] {
                #expect(html.contains(escaped), "\(escaped)")
            }
        }
    }

    @Test func hostileSessionIDIsEscapedToo() throws {
        var call = CallRecord.stored("c9", session: #"<x y="1">"#, at: 0)
        call.messages = []
        let export = try #require(
            try AuditExport(sessionID: #"<x y="1">"#, calls: [call], generatedAtMicros: 0, generator: "g", hmacKey: nil))
        let html = AuditReport(export: export).html()
        #expect(!html.contains("<x "))
        #expect(html.contains("&lt;x y=&quot;1&quot;&gt;"))
    }

    @Test func escapingCoversTheFiveCharacters() {
        #expect(HTMLText.escape(#"<a href='x'>"&"</a>"#) == "&lt;a href=&#39;x&#39;&gt;&quot;&amp;&quot;&lt;/a&gt;")
    }
}
