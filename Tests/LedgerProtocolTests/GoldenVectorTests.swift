import Foundation
import LedgerProtocol
import Testing

/// The byte-exact examples of docs/protocol.md: the encoder produces them, the decoder reads them back,
/// and the document cannot drift from the code.
@Suite struct GoldenVectorTests {
    @Test(arguments: GoldenVector.allCases)
    func encoderProducesTheDocumentedBytes(_ vector: GoldenVector) {
        #expect(Hex.string(vector.message.encodedFrame()) == Hex.string(vector.bytes))
    }

    @Test(arguments: GoldenVector.allCases)
    func decoderReadsTheDocumentedBytes(_ vector: GoldenVector) throws {
        #expect(try FrameDecoder.decodeSingle(vector.bytes) == vector.message)
    }

    @Test(arguments: GoldenVector.allCases)
    func lengthFieldCountsEverythingAfterIt(_ vector: GoldenVector) {
        let bytes = vector.bytes
        let length = bytes.prefix(4).reduce(0) { $0 << 8 | Int($1) }
        #expect(length == bytes.count - 4)
        #expect(bytes[4] == vector.message.frameVersion)
        #expect(bytes[5] == vector.message.type.rawValue)
    }

    @Test func documentShowsEveryGoldenVectorWithTheEncodersBytes() throws {
        let blocks = try Self.documentedBlocks()
        #expect(Set(blocks.map(\.name)) == Set(GoldenVector.allCases.map(\.rawValue)))
        #expect(blocks.count == GoldenVector.allCases.count, "a golden vector is shown twice")
        for block in blocks {
            let vector = try #require(GoldenVector(rawValue: block.name), "unknown golden vector \(block.name)")
            #expect(
                Hex.string(Hex.bytes(block.text)) == Hex.string(vector.message.encodedFrame()),
                "docs/protocol.md block \(block.name) differs from the encoder")
        }
    }

    @Test func fuzzSeedCorpusHoldsOnlyValidFrames() throws {
        let corpus = Self.packageRoot.appendingPathComponent("Fuzz/corpus/decoder")
        let names = try FileManager.default.contentsOfDirectory(atPath: corpus.path).filter { !$0.hasPrefix(".") }
        #expect(!names.isEmpty)
        for name in names {
            let bytes = try [UInt8](Data(contentsOf: corpus.appendingPathComponent(name)))
            let messages = try FrameBuilder.decodeAll(bytes)
            #expect(!messages.isEmpty, "\(name) holds no frame")
        }
    }

    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Every fenced block preceded by a `<!-- golden: NAME -->` line in docs/protocol.md.
    static func documentedBlocks() throws -> [(name: String, text: String)] {
        let document = try String(
            contentsOf: packageRoot.appendingPathComponent("docs/protocol.md"), encoding: .utf8)
        var blocks: [(name: String, text: String)] = []
        var lines = document.split(separator: "\n", omittingEmptySubsequences: false)[...]
        while let line = lines.popFirst() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("<!-- golden:"), trimmed.hasSuffix("-->") else { continue }
            let name = trimmed.dropFirst("<!-- golden:".count).dropLast("-->".count)
                .trimmingCharacters(in: .whitespaces)
            guard let fence = lines.popFirst(), fence.hasPrefix("```") else {
                Issue.record("golden marker \(name) is not followed by a fenced block")
                continue
            }
            var body: [Substring] = []
            while let next = lines.popFirst(), !next.hasPrefix("```") { body.append(next) }
            blocks.append((name, body.joined(separator: "\n")))
        }
        return blocks
    }
}
