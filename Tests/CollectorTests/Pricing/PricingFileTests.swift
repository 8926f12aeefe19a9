import Foundation
import Testing

@testable import Collector

/// `AGENTLEDGER_PRICING_FILE`: both formats, how they extend the built-in table, and the errors the CLI prints.
@Suite("Pricing file")
struct PricingFileTests {
    static let path = "/etc/agentledger/prices.json"

    static func table(_ json: String) throws -> PriceTable {
        try PriceTable.parsing(Array(json.utf8), path: path, over: .builtIn)
    }

    static func problem(_ json: String) -> PricingFileError.Problem? {
        do {
            _ = try PriceTable.parsing(Array(json.utf8), path: path, over: .builtIn)
            return nil
        } catch {
            return error.problem
        }
    }

    static func tag(_ json: String) -> String {
        let hex = String(PriceTable.fnv1a64(Array(json.utf8)), radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    static let ours = """
        {"version": "acme-3", "models": {
          "gpt-4o": {"input": 2, "output": 8},
          "openrouter/acme/house-model": {"input": 1, "output": 2, "cache_read": 0.1, "cache_write": 1.25,
                                          "cache_write_1h": 2.5}
        }}
        """

    @Test func ourFormatOverridesAndExtendsTheBuiltInTable() throws {
        let table = try Self.table(Self.ours)
        #expect(table.price(for: "gpt-4o-2024-08-06") == ModelPrice(input: 2, output: 8, cacheRead: 2, cacheWrite: 2))
        #expect(table.price(for: "house-model-v2")?.cacheWriteOneHour == 2.5)
        #expect(table.price(for: "acme/house-model")?.cacheRead == 0.1)
        #expect(table.price(for: "gpt-4o-mini") == PriceTable.builtIn.price(for: "gpt-4o-mini"))
        #expect(table.price(for: "claude-sonnet-4-5") == PriceTable.builtIn.price(for: "claude-sonnet-4-5"))
        #expect(table.version == "builtin-2026-11+file:acme-3:" + Self.tag(Self.ours))
    }

    @Test func theVersionFollowsTheFileBytes() throws {
        let plain = #"{"models": {"m": {"input": 1, "output": 1}}}"#
        let changed = #"{"models": {"m": {"input": 1, "output": 2}}}"#
        let version = try Self.table(plain).version
        #expect(version.hasPrefix("builtin-2026-11+file:"))
        #expect(version.dropFirst("builtin-2026-11+file:".count).count == 16)
        #expect(try Self.table(plain).version == version)
        #expect(try Self.table(changed).version != version)
        #expect(try Self.table(#"{"models": {}}"#).prices == PriceTable.builtIn.prices)
    }

    @Test func fnv1a64MatchesTheReferenceVectors() {
        #expect(PriceTable.fnv1a64([]) == 0xcbf2_9ce4_8422_2325)
        #expect(PriceTable.fnv1a64(Array("a".utf8)) == 0xaf63_dc4c_8601_ec8c)
        #expect(PriceTable.fnv1a64(Array("foobar".utf8)) == 0x8594_4171_f739_67e8)
    }

    static let liteLLM = """
        {
          "sample_spec": {"input_cost_per_token": 0.0, "output_cost_per_token": 0.0, "litellm_provider": "one of ..."},
          "gpt-4o": {"input_cost_per_token": 2.5e-06, "output_cost_per_token": 1e-05,
                     "cache_read_input_token_cost": 1.25e-06, "litellm_provider": "openai", "mode": "chat"},
          "claude-opus-4-7": {"input_cost_per_token": 5e-06, "output_cost_per_token": 2.5e-05,
                              "cache_read_input_token_cost": 5e-07, "cache_creation_input_token_cost": 6.25e-06,
                              "cache_creation_input_token_cost_above_1hr": 1e-05, "litellm_provider": "anthropic"},
          "azure/gpt-4o-mini": {"input_cost_per_token": 1.65e-07, "output_cost_per_token": 6.6e-07,
                                "litellm_provider": "azure"},
          "openrouter/anthropic/claude-3.5-sonnet": {"input_cost_per_token": 9e-06, "output_cost_per_token": 9e-06,
                                                     "litellm_provider": "openrouter"},
          "mistral/acme-large-latest": {"input_cost_per_token": 5e-07, "output_cost_per_token": 1.5e-06,
                                        "litellm_provider": "mistral"},
          "gemini/gemini-2.5-pro": {"input_cost_per_token": 9e-06, "output_cost_per_token": 9e-06,
                                    "litellm_provider": "gemini"},
          "gemini-2.5-pro": {"input_cost_per_token": 1.25e-06, "output_cost_per_token": 1e-05,
                             "litellm_provider": "vertex_ai-language-models"},
          "dall-e-3": {"output_cost_per_image": 0.04, "litellm_provider": "openai", "mode": "image_generation"},
          "tts-1": {"input_cost_per_character": 1.5e-05, "litellm_provider": "openai", "mode": "audio_speech"}
        }
        """

    @Test func liteLLMPricesPerTokenBecomePricesPerMillion() throws {
        let table = try Self.table(Self.liteLLM)
        #expect(table.price(for: "gpt-4o") == ModelPrice(input: 2.5, output: 10, cacheRead: 1.25, cacheWrite: 2.5))
        #expect(
            table.price(for: "claude-opus-4-7-20260416")
                == ModelPrice(input: 5, output: 25, cacheRead: 0.5, cacheWrite: 6.25, cacheWriteOneHour: 10))
        #expect(table.price(for: "acme-large-latest") == ModelPrice(input: 0.5, output: 1.5, cacheRead: 0.5, cacheWrite: 0.5))
        #expect(table.version == "builtin-2026-11+file:" + Self.tag(Self.liteLLM))
    }

    @Test func liteLLMGatewayEntriesNeverOverrideTheMakersPrice() throws {
        let table = try Self.table(Self.liteLLM)
        #expect(table.price(for: "gpt-4o-mini") == PriceTable.builtIn.price(for: "gpt-4o-mini"))
        #expect(table.price(for: "claude-3-5-sonnet") == PriceTable.builtIn.price(for: "claude-3-5-sonnet"))
        #expect(table.price(for: "gemini-2.5-pro")?.input == 1.25)
        #expect(table.prices["dall-e-3"] == nil)
        #expect(table.prices["tts-1"] == nil)
        #expect(table.prices["sample_spec"] == nil)
    }

    @Test(arguments: [
        ("[1, 2]", PricingFileError.Problem.notAnObject(model: nil, field: nil)),
        ("{}", .unrecognisedFormat),
        (#"{"model": {"gpt-4o": {"input": 1, "output": 2}}}"#, .unrecognisedFormat),
        (
            #"{"models": {"m": {"input": -1, "output": 2}}}"#,
            .invalidPrice(model: "m", field: "input", reason: "is negative (-1.0)")
        ),
        (
            #"{"models": {"m": {"input": "1.5", "output": 2}}}"#,
            .invalidPrice(model: "m", field: "input", reason: "is not a number")
        ),
        (
            #"{"models": {"m": {"input": 1, "output": true}}}"#,
            .invalidPrice(model: "m", field: "output", reason: "is not a number")
        ),
        (
            #"{"models": {"m": {"input": 1, "output": 1e999}}}"#,
            .invalidPrice(model: "m", field: "output", reason: "is not a number")
        ),
        (#"{"models": {"m": {"input": 1}}}"#, .missingPrice(model: "m", field: "output")),
        (#"{"models": {"m": {"input": 1, "output": 2, "cache-read": 0.1}}}"#, .unexpectedField(model: "m", field: "cache-read")),
        (#"{"models": {"m": {"input": 1, "output": 2}}, "currency": "EUR"}"#, .unexpectedField(model: nil, field: "currency")),
        (#"{"models": {"m": 3}}"#, .notAnObject(model: "m", field: nil)),
        (
            #"{"models": {"GPT-4o": {"input": 1, "output": 2}, "openai/gpt-4o": {"input": 1, "output": 2}}}"#,
            .sameModelTwice("GPT-4o", "openai/gpt-4o")
        ),
        (
            #"{"version": "has space", "models": {}}"#,
            .invalidName(#""version" must be 1 to 64 letters, digits, dots, dashes or underscores"#)
        ),
        (
            #"{"gpt-4o": {"input_cost_per_token": -2.5e-06, "output_cost_per_token": 1e-05}}"#,
            .invalidPrice(model: "gpt-4o", field: "input_cost_per_token", reason: "is negative (-2.5e-06)")
        ),
        (
            #"{"gpt-4o": {"input_cost_per_token": "cheap", "output_cost_per_token": 1e-05}}"#,
            .invalidPrice(model: "gpt-4o", field: "input_cost_per_token", reason: "is not a number")
        ),
    ])
    func badFilesAreRefused(json: String, problem: PricingFileError.Problem) {
        #expect(Self.problem(json) == problem)
    }

    @Test func notJSONSaysWhere() {
        guard case .notJSON(let reason) = Self.problem(#"{"models": {"m": {"input": 1,}}}"#) else {
            Issue.record("expected notJSON")
            return
        }
        #expect(reason.contains("at byte"))
    }

    @Test func theErrorIsOneLineNamingTheVariableAndThePath() {
        let error = PricingFileError(
            path: Self.path, problem: .invalidPrice(model: "m", field: "input", reason: "is negative (-1.0)"))
        #expect(
            error.description == #"AGENTLEDGER_PRICING_FILE /etc/agentledger/prices.json: model "m": "input" is negative (-1.0)"#)
        #expect(!String(describing: PricingFileError(path: "p", problem: .unrecognisedFormat)).contains("\n"))
    }

    @Test func aFileOnDiskIsLoaded() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agentledger-pricing-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("prices.json")
        try Data(Self.ours.utf8).write(to: file)

        let table = try PriceTable.loading(fileAt: file.path)
        #expect(table.version == "builtin-2026-11+file:acme-3:" + Self.tag(Self.ours))
        #expect(table.price(for: "gpt-4o")?.input == 2)

        #expect(throws: PricingFileError(path: directory.path, problem: .unreadable("it is a directory"))) {
            try PriceTable.loading(fileAt: directory.path)
        }
        let missing = directory.appendingPathComponent("missing.json").path
        #expect(throws: PricingFileError(path: missing, problem: .unreadable("no such file"))) {
            try PriceTable.loading(fileAt: missing)
        }
    }
}
