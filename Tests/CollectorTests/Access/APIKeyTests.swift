import Testing

@testable import Collector

/// The API key: configured or not, compared exactly, and never shown.
@Suite struct APIKeyTests {
    @Test func noSecretMeansNoKey() {
        #expect(APIKey(secret: nil) == nil)
        #expect(APIKey(secret: "") == nil)
        #expect(APIKey(secret: "k") != nil)
    }

    @Test func acceptsOnlyTheExactKey() throws {
        let key = try #require(APIKey(secret: "correct horse"))
        #expect(key.accepts("correct horse"))
        for wrong in ["", "correct", "correct horse ", "Correct horse", "correct horsE", "correct horse battery"] {
            #expect(!key.accepts(wrong), "\(wrong)")
        }
    }

    @Test func theSecretIsNeverPrinted() throws {
        let key = try #require(APIKey(secret: "hunter2-secret"))
        var dumped = ""
        dump(key, to: &dumped)
        for text in [String(describing: key), String(reflecting: key), "\(key)", dumped] {
            #expect(!text.contains("hunter2"), "\(text)")
        }
    }
}
