import Testing

@testable import Collector

/// RFC 8785 (JCS) canonical JSON, checked against the RFC's own examples.
@Suite struct CanonicalJSONTests {
    static func canonical(_ json: String) throws -> String {
        String(decoding: try CanonicalJSON.bytes(ofJSON: Array(json.utf8)), as: UTF8.self)
    }

    /// RFC 8785 appendix B: IEEE 754 bit patterns and their ECMAScript text.
    static let appendixB: [(UInt64, String)] = [
        (0x0000_0000_0000_0000, "0"), (0x8000_0000_0000_0000, "0"),
        (0x0000_0000_0000_0001, "5e-324"), (0x8000_0000_0000_0001, "-5e-324"),
        (0x7fef_ffff_ffff_ffff, "1.7976931348623157e+308"), (0xffef_ffff_ffff_ffff, "-1.7976931348623157e+308"),
        (0x4340_0000_0000_0000, "9007199254740992"), (0xc340_0000_0000_0000, "-9007199254740992"),
        (0x4430_0000_0000_0000, "295147905179352830000"),
        (0x44b5_2d02_c7e1_4af5, "9.999999999999997e+22"), (0x44b5_2d02_c7e1_4af6, "1e+23"),
        (0x44b5_2d02_c7e1_4af7, "1.0000000000000001e+23"),
        (0x444b_1ae4_d6e2_ef4e, "999999999999999700000"), (0x444b_1ae4_d6e2_ef4f, "999999999999999900000"),
        (0x444b_1ae4_d6e2_ef50, "1e+21"),
        (0x3eb0_c6f7_a0b5_ed8c, "9.999999999999997e-7"), (0x3eb0_c6f7_a0b5_ed8d, "0.000001"),
        (0x41b3_de43_5555_5553, "333333333.3333332"), (0x41b3_de43_5555_5554, "333333333.33333325"),
        (0x41b3_de43_5555_5555, "333333333.3333333"), (0x41b3_de43_5555_5556, "333333333.3333334"),
        (0x41b3_de43_5555_5557, "333333333.33333343"),
        (0xbecb_f647_612f_3696, "-0.0000033333333333333333"),
        (0x4314_3ff3_c1cb_0959, "1424953923781206.2"),
    ]

    @Test(arguments: appendixB)
    func numbersAreWrittenAsECMAScriptDoes(bits: UInt64, expected: String) throws {
        #expect(CanonicalJSON.number(Double(bitPattern: bits)) == expected)
        let value = Double(bitPattern: bits)
        #expect(try CanonicalJSON.text(of: .array([.double(value)])) == "[\(expected)]")
    }

    @Test func nanAndInfinityHaveNoCanonicalForm() {
        #expect(CanonicalJSON.number(.nan) == nil)
        #expect(CanonicalJSON.number(.infinity) == nil)
        #expect(throws: CanonicalJSON.Failure.self) { try CanonicalJSON.bytes(of: .double(-.infinity)) }
    }

    @Test func numberFormsAroundTheThresholds() throws {
        let cases: [(Double, String)] = [
            (1, "1"), (-1.5, "-1.5"), (100, "100"), (0.1, "0.1"), (1e-6, "0.000001"), (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"), (1e20, "100000000000000000000"), (1e21, "1e+21"), (1.25e22, "1.25e+22"),
            (0.00001, "0.00001"), (123.456, "123.456"), (-0.0, "0"), (2e-3, "0.002"), (4.50, "4.5"),
        ]
        for (value, expected) in cases { #expect(CanonicalJSON.number(value) == expected, "\(value)") }
        #expect(CanonicalJSON.number(Int64(42)) == "42")
        #expect(CanonicalJSON.number(Int64(-9_007_199_254_740_993)) == "-9007199254740992", "beyond 2^53: a double")
        #expect(try Self.canonical("[-0, -0.0, 1.0, 1E2, 1e-0]") == "[0,0,1,100,1]")
        #expect(throws: (any Error).self, "overflows to infinity") { try Self.canonical("[1e400]") }
    }

    /// RFC 8785 section 3.2.2: the main example.
    @Test func rfcMainExample() throws {
        let input = #"""
            {
              "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
              "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
              "literals": [null, true, false]
            }
            """#
        let expected =
            #"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"#
            + #""string":"€$\u000f\nA'B\"\\\\\"/"}"#
        #expect(try Self.canonical(input) == expected)
    }

    /// RFC 8785 section 3.2.3: members sorted by UTF-16 code units, whatever their UTF-8 or scalar order.
    @Test func rfcSortingExample() throws {
        let input = #"""
            {
              "\u20ac": "Euro Sign",
              "\r": "Carriage Return",
              "\ufb33": "Hebrew Letter Dalet With Dagesh",
              "1": "One",
              "\ud83d\ude00": "Emoji: Grinning Face",
              "\u0080": "Control",
              "\u00f6": "Latin Small Letter O With Diaeresis"
            }
            """#
        let expected =
            #"{"\r":"Carriage Return","1":"One","\#u{80}":"Control","ö":"Latin Small Letter O With Diaeresis","#
            + #""€":"Euro Sign","😀":"Emoji: Grinning Face","\#u{FB33}":"Hebrew Letter Dalet With Dagesh"}"#
        let output = try CanonicalJSON.bytes(ofJSON: Array(input.utf8))
        #expect(output == Array(expected.utf8), "byte for byte: U+FB33 is not normalized")
    }

    @Test func stringsUseOnlyTheMandatoryEscapes() throws {
        let value = JSONValue.string("\u{0}\u{1f}\u{8}\t\n\u{c}\r\"\\/\u{7f}\u{2028}é<script>")
        #expect(try CanonicalJSON.text(of: value) == #""\u0000\u001f\b\t\n\f\r\"\\/\#u{7f}\#u{2028}é<script>""#)
    }

    @Test func nestedValuesHaveNoWhitespace() throws {
        let json = #" { "b" : [ 1 , { "z" : null , "a" : true } ] , "a" : { } , "c" : [ ] } "#
        #expect(try Self.canonical(json) == #"{"a":{},"b":[1,{"a":true,"z":null}],"c":[]}"#)
    }

    @Test func canonicalFormIsAFixedPoint() throws {
        let json = #"{"n":[0.1,1e-7,123456789012345680000,5e-324,-2.5],"s":"\u00e9\ud83d\ude00\u0007"}"#
        let once = try Self.canonical(json)
        #expect(try Self.canonical(once) == once)
    }
}
