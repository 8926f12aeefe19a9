import Testing

@testable import Collector

/// The JSON reader and the sorted-key writer.
@Suite("JSON reading and writing")
struct JSONReaderTests {
    @Test func integersStayIntegers() throws {
        let value = try JSONReader.parse(
            #"{"a":1,"b":-2,"c":1.5,"d":1e3,"e":9223372036854775807,"f":92233720368547758070}"#)
        #expect(value["a"] == .int(1))
        #expect(value["b"] == .int(-2))
        #expect(value["c"] == .double(1.5))
        #expect(value["d"] == .double(1000))
        #expect(value["e"] == .int(Int64.max))
        #expect(value["f"] == .double(9.223372036854775807e19))
    }

    @Test func literalsArraysAndWhitespace() throws {
        let value = try JSONReader.parse(" \n[true, false, null, [], {}, \"\"]\r\n")
        #expect(value == .array([.bool(true), .bool(false), .null, .array([]), .object([:]), .string("")]))
    }

    @Test func escapesAndSurrogatePairs() throws {
        let value = try JSONReader.parse(#"["a\"b\\c\/d\n\t\u00e9\ud83d\ude00", "\ud800x", "plain ✓"]"#)
        #expect(value == .array([.string("a\"b\\c/d\n\té😀"), .string("\u{FFFD}x"), .string("plain ✓")]))
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "tru", "01x", "\"abc", "{} {}", "-", "1.", "\"\\q\""])
    func invalidDocumentsFail(text: String) {
        #expect(throws: JSONReader.Failure.self) { try JSONReader.parse(text) }
    }

    @Test func failureSaysWhere() {
        do {
            _ = try JSONReader.parse(#"{"a": [1, 2,, 3]}"#)
            Issue.record("parsed an invalid document")
        } catch {
            #expect(error.offset == 12)
            #expect(error.description == "unexpected character at byte 12")
        }
    }

    @Test func writerSortsKeysAndEscapes() throws {
        let value = try JSONReader.parse(#"{"z":[1,2.5,null],"a":{"y":"q\"\n\u0001","b":false},"m":"é/✓"}"#)
        let text = JSONWriter.text(of: value)
        #expect(text == #"{"a":{"b":false,"y":"q\"\n\u0001"},"m":"é/✓","z":[1,2.5,null]}"#)
        #expect(try JSONReader.parse(text) == value)
    }
}
