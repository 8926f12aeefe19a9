import LedgerTestSupport
import PostgresNIO
import Testing

@testable import Collector

/// The `tsvector` Swift makes of a call's search words: its shape, where it declines, and that Postgres reads its
/// binary form as exactly what `to_tsvector('simple', …)` makes of the same document.
@Suite struct SearchVectorTests {
    /// The vector's text form, or nil where Swift leaves the document to Postgres.
    func literal(_ parts: [String]) -> String? { SearchVector(of: parts)?.literal }

    @Test func wordsGroupTheirPositionsInOrder() {
        #expect(literal(["writer done", "b a a"]) == "'a':4,5 'b':3 'done':2 'writer':1")
        #expect(literal(["", "x  y "]) == "'x':1 'y':2")
        #expect(literal([]) == "")
        // Past the first eight bytes, and a word before its extensions.
        #expect(
            literal(["abcdefghij abcdefgh abcdefghi abcdefgha abcdefgh"])
                == "'abcdefgh':2,5 'abcdefgha':4 'abcdefghi':3 'abcdefghij':1")
    }

    @Test func documentsOnlyPostgresCanParseAreLeftToIt() {
        #expect(literal(["zürich"]) == nil, "non-ASCII")
        #expect(literal(["1e5x"]) == nil, "the parser reads 1e5 and x")
        #expect(literal(["Upper"]) == nil, "not normalized")
        #expect(literal(["1e5 1e 12ee3 x1e5x"]) == "'12ee3':3 '1e':2 '1e5':1 'x1e5x':4")
    }

    @Test func limitsAreThoseOfToTSVector() throws {
        let long = String(repeating: "w", count: SearchVector.maximumWordBytes)
        #expect(literal(["a \(long) b"]) == "'a':1 'b':2", "a word too long is skipped")
        let repeated = try #require(literal([Array(repeating: "a", count: 300).joined(separator: " ")]))
        #expect(repeated.split(separator: ",").count == SearchVector.maximumPositions)
        let many = Array(repeating: "x", count: SearchVector.maximumPosition + 5).joined(separator: " ") + " y y"
        let vector = try #require(literal([many]))
        #expect(vector.hasSuffix("'y':16383"))
    }

    /// Documents of words that stress the default parser (digits, `e`, letters), the limits, and the stores' own
    /// normalized text, each compared in Postgres with `to_tsvector('simple', document)`.
    @Test(.enabled(if: PostgresTestCluster.isConfigured, PostgresTestCluster.notConfigured))
    func postgresReadsTheVectorAsToTSVectorParsesTheDocument() async throws {
        var generator = SystemRandomNumberGenerator()
        let letters = Array("01e9ax")
        var documents = (0..<3000).map { _ in
            (0..<Int.random(in: 0...30, using: &generator)).map { _ in
                String((0..<Int.random(in: 1...12, using: &generator)).map { _ in letters.randomElement(using: &generator)! })
            }.joined(separator: " ")
        }
        documents += [
            "a " + String(repeating: "w", count: 2046) + " b " + String(repeating: "v", count: 2048) + " c",
            Array(repeating: "a b", count: 400).joined(separator: " "),
            Array(repeating: "x", count: 16_390).joined(separator: " ") + " y y z",
            SearchText.document(for: CallRecord.stored("a", at: 1)),
        ]
        let vectors = documents.map { SearchVector(of: [$0]) }
        #expect(vectors.filter { $0 != nil }.count > 1000)
        var bindings = PostgresBindings()
        bindings.append(PostgresNullableArray(vectors))
        bindings.append(PostgresNullableArray(vectors.map { $0?.literal }))
        bindings.append(documents)
        // The binary form, bound as the insert binds it, and the text form, each against Postgres's own parse.
        let query = PostgresQuery(
            unsafeSQL: """
                SELECT d FROM unnest($1::tsvector[], $2::text[], $3::text[]) AS t(v, l, d)
                WHERE v IS NOT NULL AND (v IS DISTINCT FROM to_tsvector('simple', d) OR l::tsvector IS DISTINCT FROM v)
                """, binds: bindings)
        try await StoreKind.postgres.withStore { store in
            let store = try #require(store as? PostgresStore)
            let differing = try await store.bounded("compare") { client in
                try await client.query(query).collect().map { try $0.decode(String.self) }
            }
            #expect(differing.isEmpty)
        }
    }

    /// A call's `search` value, whether Swift made it or Postgres parsed it, is that of its own words and those of
    /// the messages it was first to bring.
    @Test(.enabled(if: PostgresTestCluster.isConfigured, PostgresTestCluster.notConfigured))
    func storedSearchVectorsMatchTheDocumentOfTheNewMessages() async throws {
        func message(_ text: String) -> JSONValue { .object(["role": .string("user"), "content": .string(text)]) }
        func call(_ id: String, _ messages: [JSONValue], content: String = "reply") -> CallRecord {
            var record = CallRecord.stored(id, at: 1)
            record.messages = messages
            record.content = content
            return record
        }
        let (m1, m2, m3, m4) = (message("first 1e5x"), message("second"), message("third"), message("fourth"))
        let first = call("a", [m1, m2])
        // b holds m1 and m2 again, so only m3 is new; c brings m4 alone; d is not ASCII.
        let second = [call("b", [m1, m2, m3]), call("c", [m1, m2, m3, m4]), call("d", [m2], content: "Zürich")]
        let expected = [
            "a": SearchText.document(for: first, messages: [m1, m2]),
            "b": SearchText.document(for: second[0], messages: [m3]),
            "c": SearchText.document(for: second[1], messages: [m4]),
            "d": SearchText.document(for: second[2], messages: []),
        ]
        try await StoreKind.postgres.withStore { store in
            let store = try #require(store as? PostgresStore)
            #expect(try await store.insert([first]).stored == 1)
            #expect(try await store.insert(second).stored == 3)
            var bindings = PostgresBindings()
            bindings.append(Array(expected.keys))
            bindings.append(Array(expected.values))
            let query = PostgresQuery(
                unsafeSQL: """
                    SELECT action_id FROM calls JOIN unnest($1::text[], $2::text[]) AS e(id, document) ON id = action_id
                    WHERE search IS NOT DISTINCT FROM to_tsvector('simple', document)
                    """, binds: bindings)
            let matching = try await store.bounded("compare") { client in
                try await client.query(query).collect().map { try $0.decode(String.self) }
            }
            #expect(Set(matching) == Set(expected.keys))
            #expect(try await store.search(SearchQuery(text: "fourth")).map(\.actionID) == ["c"])
            #expect(try await store.search(SearchQuery(text: "1e5x")).map(\.actionID) == ["a"])
        }
    }
}
