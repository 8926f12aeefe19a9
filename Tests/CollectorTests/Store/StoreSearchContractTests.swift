import Foundation
import LedgerProtocol
import Testing

@testable import Collector

extension StoreTests {
    /// Full-text search, asserted the same way on SQLite (FTS5) and Postgres (tsvector).
    @Suite struct SearchContract {
        /// Calls whose text is spread over every searched field, one per second.
        static let corpus: [CallRecord] = {
            func call(_ id: String, at second: Int64, _ edit: (inout CallRecord) -> Void) -> CallRecord {
                var record = CallRecord.stored(id, session: "search", at: second * 1_000_000)
                record.messages = []
                record.agentName = nil
                edit(&record)
                return record
            }
            return [
                call("zurich", at: 1) {
                    $0.messages = [.object(["role": .string("user"), "content": .string("Weather in Zürich?")])]
                },
                call("tokyo", at: 2) { $0.content = "東京の天気は晴れです" },
                call("prompt", at: 3) { $0.systemPrompt = "You are a terse librarian." },
                call("agent", at: 4) { $0.agentName = "orchestrator" },
                call("user", at: 5) { $0.userID = "alice-42" },
                call("sale", at: 6) { $0.content = "Everything is 50% off, foo_bar included" },
                call("count", at: 7) { $0.content = "There are 500 items and abc and foo baz" },
                call("parts", at: 8) {
                    $0.messages = [
                        .object([
                            "role": .string("user"),
                            "content": .array([.object(["type": .string("text"), "text": .string("paris weather \"quoted\"")])]),
                        ])
                    ]
                },
                call("later", at: 9) { $0.content = "weather report for later" },
            ]
        }()

        static func ids(_ store: any Store, _ text: String, limit: Int = 50) async throws -> [String] {
            try await store.search(SearchQuery(text: text, limit: limit)).map(\.actionID)
        }

        @Test(arguments: StoreKind.testable)
        func everySearchedFieldIsFoundWhateverTheScript(kind: StoreKind) async throws {
            try await kind.withStore { store in
                _ = try await store.insert(Self.corpus)
                #expect(try await Self.ids(store, "Zürich") == ["zurich"])
                #expect(try await Self.ids(store, "ZÜRICH") == ["zurich"], "case does not matter")
                #expect(try await Self.ids(store, "Zurich").isEmpty, "diacritics do")
                #expect(try await Self.ids(store, "東京") == ["tokyo"], "Han text matches inside a sentence")
                #expect(try await Self.ids(store, "天気") == ["tokyo"])
                #expect(try await Self.ids(store, "京東").isEmpty, "the characters must be adjacent and in order")
                #expect(try await Self.ids(store, "librarian") == ["prompt"])
                #expect(try await Self.ids(store, "orchestrator") == ["agent"])
                #expect(try await Self.ids(store, "alice-42") == ["user"])
                #expect(try await Self.ids(store, "quoted") == ["parts"], "text parts of messages are searched")
                #expect(try await Self.ids(store, "user").isEmpty, "message roles are not text")
            }
        }

        @Test(arguments: StoreKind.testable)
        func operatorsAndWildcardsAreLiteralText(kind: StoreKind) async throws {
            try await kind.withStore { store in
                _ = try await store.insert(Self.corpus)
                #expect(try await Self.ids(store, "%").isEmpty)
                #expect(try await Self.ids(store, "_").isEmpty)
                #expect(try await Self.ids(store, "*").isEmpty)
                #expect(try await Self.ids(store, "50%") == ["sale"], "not 500")
                #expect(try await Self.ids(store, "a_c").isEmpty, "_ is no single-character wildcard")
                #expect(try await Self.ids(store, "foo_bar") == ["sale"])
                #expect(try await Self.ids(store, "weath*").isEmpty, "* is no prefix wildcard")
                #expect(try await Self.ids(store, "-paris") == ["parts"], "- does not negate")
                #expect(try await Self.ids(store, #""quoted"#) == ["parts"], "an unbalanced quote is harmless")
                #expect(try await Self.ids(store, "paris OR later") == [], "OR is a word, all terms must match")
                #expect(try await Self.ids(store, "NEAR(paris weather)").isEmpty, "NEAR is a word too")
                #expect(try await Self.ids(store, "summary:paris").isEmpty, "no column filters")
            }
        }

        @Test(arguments: StoreKind.testable)
        func allTermsMustMatchAndResultsComeNewestFirst(kind: StoreKind) async throws {
            try await kind.withStore { store in
                _ = try await store.insert(Self.corpus)
                #expect(try await Self.ids(store, "weather") == ["later", "parts", "zurich"])
                #expect(try await Self.ids(store, "weather", limit: 2) == ["later", "parts"])
                #expect(try await Self.ids(store, "paris weather") == ["parts"])
                #expect(try await Self.ids(store, "weather paris") == ["parts"])
                #expect(try await Self.ids(store, "missingword weather").isEmpty)
                let found = try #require(try await store.search(SearchQuery(text: "librarian")).first)
                #expect(found == Self.corpus[2], "results are whole records")
            }
        }

        @Test(arguments: StoreKind.testable)
        func aReplayedCallIsFoundOnce(kind: StoreKind) async throws {
            try await kind.withStore { store in
                _ = try await store.insert(Self.corpus)
                _ = try await store.insert(Self.corpus)
                #expect(try await Self.ids(store, "orchestrator") == ["agent"])
            }
        }

        /// Matches spread over a long history come newest first, across the windows Postgres searches one at a time.
        @Test(arguments: StoreKind.testable)
        func matchesOverAYearComeNewestFirst(kind: StoreKind) async throws {
            try await kind.withStore { store in
                let now = WallClock.nowMicros()
                let day = Retention.dayMicros
                let ages: [(String, Int64)] = [
                    ("ahead", -3_600_000_000), ("hours", 3_600_000_000), ("days", 3 * day), ("weeks", 20 * day),
                    ("months", 200 * day), ("years", 800 * day), ("epoch", now - 1),
                ]
                var records: [CallRecord] = []
                for (id, age) in ages {
                    var record = CallRecord.stored(id, session: "history-\(id)", at: now - age)
                    record.content = "quokka sighting \(id)"
                    records.append(record)
                }
                records.append(CallRecord.stored("other", at: now))
                _ = try await store.insert(records)
                let all = ages.map(\.0)
                #expect(try await store.search(SearchQuery(text: "quokka", limit: 50)).map(\.actionID) == all)
                #expect(try await store.search(SearchQuery(text: "quokka", limit: 3)).map(\.actionID) == Array(all.prefix(3)))
                #expect(try await store.search(SearchQuery(text: "quokka", limit: 5)).map(\.actionID) == Array(all.prefix(5)))
                #expect(try await store.search(SearchQuery(text: "quokka years", limit: 5)).map(\.actionID) == ["years"])
            }
        }
    }
}
