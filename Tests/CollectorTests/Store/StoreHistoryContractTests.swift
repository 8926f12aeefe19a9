import Foundation
import Testing

@testable import Collector

extension StoreTests {
    /// Messages are stored once however often calls resend them, and every call still reads back whole.
    @Suite struct HistoryContract {
        @Test(arguments: StoreKind.testable)
        func everyCallReadsBackItsWholeHistory(kind: StoreKind) async throws {
            var conversation = Conversation(turns: 8)
            let calls = conversation.calls()
            try await kind.withStore { store in
                // The first calls one by one, the rest in one batch that shares new messages between its calls.
                for call in calls.prefix(3) { _ = try await store.insert([call]) }
                _ = try await store.insert(Array(calls.dropFirst(3)))
                #expect(try await store.calls(inSession: conversation.session) == calls)
                #expect(try await store.call(actionID: calls[5].actionID) == calls[5])
                let found = try await store.search(SearchQuery(text: "support", limit: 100))
                #expect(found.count == calls.count)
                #expect(found == calls.reversed(), "search answers whole records too")
            }
        }

        @Test(arguments: StoreKind.testable)
        func theSameMessageInOtherSessionsIsSharedAndReadBackInEach(kind: StoreKind) async throws {
            try await kind.withStore { store in
                var a = CallRecord.stored("a", session: "s1", at: 1)
                var b = CallRecord.stored("b", session: "s2", at: 2)
                let shared: JSONValue = .object(["role": .string("system"), "content": .string("shared rules")])
                a.messages = [shared, .string("bare string message"), shared]
                b.messages = [shared]
                _ = try await store.insert([a])
                _ = try await store.insert([b])
                #expect(try await store.call(actionID: "a") == a)
                #expect(try await store.call(actionID: "b") == b)
            }
        }

        /// Search indexes a message with the call that first stored it; the calls that resend it are found by their
        /// own new messages and output.
        @Test(arguments: StoreKind.testable)
        func aMessageIsFoundInTheCallThatBroughtIt(kind: StoreKind) async throws {
            func call(_ id: String, at micros: Int64, _ texts: [String], output: String) -> CallRecord {
                var record = CallRecord.stored(id, at: micros)
                record.agentName = nil
                record.messages = texts.map { .object(["role": .string("user"), "content": .string($0)]) }
                record.content = output
                return record
            }
            try await kind.withStore { store in
                let first = call("first", at: 1, ["aardvark question"], output: "badger answer")
                let second = call("second", at: 2, ["aardvark question", "capybara followup"], output: "dingo reply")
                let third = call("third", at: 3, ["aardvark question", "capybara followup", "emu"], output: "ferret")
                _ = try await store.insert([first])
                _ = try await store.insert([second, third])
                func ids(_ text: String) async throws -> [String] {
                    try await store.search(SearchQuery(text: text)).map(\.actionID)
                }
                #expect(try await ids("aardvark") == ["first"])
                #expect(try await ids("capybara") == ["second"], "first held in the batch by the second call")
                #expect(try await ids("emu") == ["third"])
                #expect(try await ids("dingo") == ["second"])
                #expect(try await ids("aardvark badger") == ["first"])
            }
        }
    }
}
