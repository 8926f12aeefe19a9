import Foundation
import LedgerInject
import Testing
import Yams

/// `agentledger inject` on a corpus of real-world manifests (`Tests/Fixtures/k8s`): every workload gets the native
/// sidecar, nothing else changes, injecting twice is injecting once, and uninject gives the input back.
@Suite("Inject")
struct ManifestInjectorTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/k8s")

    static let corpus: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: fixtures.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.sorted()
    }()

    static func fixture(_ name: String) throws -> String {
        try String(contentsOf: fixtures.appendingPathComponent(name), encoding: .utf8)
    }

    /// Every pod (`metadata`, `spec`) in the documents, with its workload's kind.
    static func pods(_ yaml: String) throws -> [(kind: String, metadata: Node.Mapping?, spec: Node.Mapping)] {
        var found: [(String, Node.Mapping?, Node.Mapping)] = []
        func visit(_ object: Node.Mapping) {
            let kind = object["kind"]?.string ?? ""
            if kind == "List" {
                for item in object["items"]?.sequence ?? [] { if let item = item.mapping { visit(item) } }
            } else if kind == "Pod", let spec = object["spec"]?.mapping {
                found.append((kind, object["metadata"]?.mapping, spec))
            } else if kind == "CronJob",
                let template = object["spec"]?.mapping?["jobTemplate"]?.mapping?["spec"]?
                    .mapping?["template"]?.mapping, let spec = template["spec"]?.mapping
            {
                found.append((kind, template["metadata"]?.mapping, spec))
            } else if let template = object["spec"]?.mapping?["template"]?.mapping, let spec = template["spec"]?.mapping {
                found.append((kind, template["metadata"]?.mapping, spec))
            }
        }
        for document in try Yams.compose_all(yaml: yaml) { if let object = document.mapping { visit(object) } }
        return found
    }

    static func names(_ spec: Node.Mapping, _ key: String) -> [String] {
        (spec[key]?.sequence ?? []).compactMap { $0.mapping?["name"]?.string }
    }

    static func env(_ container: Node, _ name: String) -> String? {
        container.mapping?["env"]?.sequence?.first { $0.mapping?["name"]?.string == name }?.mapping?["value"]?.string
    }

    @Test func theCorpusCoversEveryKindInjectEdits() throws {
        var kinds = Set<String>()
        for name in Self.corpus { kinds.formUnion(try Self.pods(try Self.fixture(name)).map(\.kind)) }
        #expect(kinds == ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"])
    }

    @Test(arguments: corpus) func everyWorkloadGetsTheNativeSidecar(name: String) throws {
        let input = try Self.fixture(name)
        let output = try ManifestInjector.inject(input, options: InjectOptions())
        let before = try Self.pods(input)
        let after = try Self.pods(output)
        #expect(after.count == before.count && !after.isEmpty)
        for ((_, _, old), (kind, metadata, spec)) in zip(before, after) {
            // First among the init containers, the others kept in their order.
            #expect(Self.names(spec, "initContainers") == ["agentledger-sidecar"] + Self.names(old, "initContainers"))
            let sidecar = try #require(spec["initContainers"]?.sequence?.first?.mapping)
            #expect(sidecar["restartPolicy"]?.string == "Always")
            #expect(sidecar["startupProbe"]?.mapping?["httpGet"]?.mapping?["path"]?.string == "/agentledger/healthz")
            #expect(sidecar["readinessProbe"]?.mapping?["httpGet"]?.mapping?["path"]?.string == "/agentledger/readyz")
            let env = sidecar["env"]?.sequence ?? []
            let source = env.first { $0.mapping?["name"]?.string == "AGENTLEDGER_SOURCE" }
            #expect(source?.mapping?["valueFrom"]?.mapping?["fieldRef"]?.mapping?["fieldPath"]?.string == "metadata.name")
            let token = env.first { $0.mapping?["name"]?.string == "AGENTLEDGER_INGEST_TOKEN" }
            #expect(
                token?.mapping?["valueFrom"]?.mapping?["secretKeyRef"]?.mapping?["name"]?.string == "agentledger-ingest-token")
            #expect(Self.names(spec, "volumes") == Self.names(old, "volumes") + ["agentledger-spool"])
            let volume = spec["volumes"]?.sequence?.last?.mapping
            #expect(volume?["emptyDir"]?.mapping?["sizeLimit"]?.string == "640Mi")
            #expect((spec["terminationGracePeriodSeconds"]?.int ?? 0) >= 60, "\(kind)")
            #expect(spec["terminationGracePeriodSeconds"]?.int == max(60, old["terminationGracePeriodSeconds"]?.int ?? 30))
            // The label reads back as the string "true", which the NetworkPolicy selects on.
            #expect(metadata?["labels"]?.mapping?["agentledger.io/agent"] == Node("true", Tag(.str), .doubleQuoted))
            // Agent containers point at the sidecar unless they chose a base URL themselves.
            for (container, original) in zip(spec["containers"]?.sequence ?? [], old["containers"]?.sequence ?? []) {
                let own = Self.env(original, "OPENAI_BASE_URL")
                #expect(Self.env(container, "OPENAI_BASE_URL") == own ?? "http://127.0.0.1:8000/v1")
            }
        }
    }

    @Test(arguments: corpus) func injectingTwiceIsInjectingOnce(name: String) throws {
        let once = try ManifestInjector.inject(try Self.fixture(name), options: InjectOptions())
        #expect(try ManifestInjector.inject(once, options: InjectOptions()) == once)
        // Other options do not add a second sidecar either.
        var other = InjectOptions()
        other.image = "registry.example.com/agentledger:9.9"
        #expect(try ManifestInjector.inject(once, options: other) == once)
    }

    @Test(arguments: corpus) func uninjectGivesTheInputBack(name: String) throws {
        let input = try Self.fixture(name)
        let injected = try ManifestInjector.inject(input, options: InjectOptions())
        let restored = try ManifestInjector.uninject(injected)
        #expect(Array(try Yams.compose_all(yaml: restored)) == Array(try Yams.compose_all(yaml: input)))
        // And uninjecting what has no sidecar changes nothing.
        #expect(try ManifestInjector.uninject(restored) == restored)
    }

    @Test func objectsThatAreNotWorkloadsPassThroughUnchanged() throws {
        let input = try Self.fixture("multi-document.yaml")
        let before = Array(try Yams.compose_all(yaml: input))
        let after = Array(try Yams.compose_all(yaml: try ManifestInjector.inject(input, options: InjectOptions())))
        #expect(after.count == 4)
        #expect(after[0] == before[0])  // ConfigMap, its block scalar included
        #expect(after[1] == before[1])  // Service
        #expect(after[3] == before[3])  // Ingress
        #expect(after[2] != before[2])
        // The label was there already: uninject keeps it.
        let restored = try ManifestInjector.uninject(try ManifestInjector.inject(input, options: InjectOptions()))
        #expect(restored.contains("agentledger.io/agent"))
    }

    @Test func aPodWithoutTemplateMetadataGetsItAndLosesItAgain() throws {
        let input = try Self.fixture("job.yaml")
        let injected = try ManifestInjector.inject(input, options: InjectOptions())
        let pod = try #require(try Self.pods(injected).first)
        #expect(pod.metadata?["annotations"]?.mapping?["agentledger.io/injected"] != nil)
        let restored = try ManifestInjector.uninject(injected)
        #expect(!restored.contains("metadata:\n      ") || !restored.contains("agentledger"))
        #expect(try Self.pods(restored).first?.metadata == nil)
    }

    @Test func anAnthropicUpstreamPointsTheAnthropicVariable() throws {
        var options = InjectOptions()
        options.upstreamURL = "https://api.anthropic.com"
        options.port = 9100
        let output = try ManifestInjector.inject(try Self.fixture("statefulset.yaml"), options: options)
        let container = try #require(try Self.pods(output).first?.spec["containers"]?.sequence?.first)
        #expect(Self.env(container, "ANTHROPIC_BASE_URL") == "http://127.0.0.1:9100")
        #expect(Self.env(container, "OPENAI_BASE_URL") == nil)
        #expect(output.contains("containerPort: 9100"))
        #expect(output.contains("value: \"9100\""))
    }

    @Test func optionsReachTheSidecar() throws {
        var options = InjectOptions()
        options.collector = "collector.example.com:4601"
        options.image = "registry.example.com/agentledger:0.1.0"
        options.tokenSecret = "ledger-token"
        options.tokenSecretKey = "ingest"
        options.spoolMB = 64
        options.onCollectorDown = "closed"
        let output = try ManifestInjector.inject(try Self.fixture("pod.yaml"), options: options)
        let sidecar = try #require(try Self.pods(output).first?.spec["initContainers"]?.sequence?.first)
        #expect(sidecar.mapping?["image"]?.string == "registry.example.com/agentledger:0.1.0")
        #expect(Self.env(sidecar, "AGENTLEDGER_COLLECTOR") == "collector.example.com:4601")
        #expect(Self.env(sidecar, "AGENTLEDGER_SPOOL_MAX_MB") == "64")
        #expect(Self.env(sidecar, "AGENTLEDGER_ON_COLLECTOR_DOWN") == "closed")
        #expect(output.contains("sizeLimit: 80Mi"))
        #expect(output.contains("name: ledger-token") && output.contains("key: ingest"))
    }

    @Test func badOptionsAreRefusedWithTheFlagNamed() {
        var options = InjectOptions()
        options.collector = "no-port"
        #expect(throws: InjectError("--collector 'no-port' is not host:port")) {
            try ManifestInjector.inject("", options: options)
        }
        options = InjectOptions()
        options.spoolMB = 0
        #expect(options.validationError()?.contains("--spool-mb") == true)
        options = InjectOptions()
        options.upstreamURL = "ftp://x"
        #expect(options.validationError()?.contains("--upstream-url") == true)
        options = InjectOptions()
        options.onCollectorDown = "maybe"
        #expect(options.validationError()?.contains("--on-collector-down") == true)
    }

    @Test func inputItCannotReadIsRefusedWithOneLine() throws {
        let cases: [(String, String)] = [
            ("kind: Deployment\nspec: [unclosed", "the input is not YAML"),
            ("- just\n- a list\n", "document 1 is not a Kubernetes object"),
            ("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n", "spec is missing"),
            (
                "kind: Deployment\nmetadata: {name: api}\nspec: {replicas: 1}\n",
                "document 1 (Deployment 'api') spec.template is missing"
            ),
            ("kind: Pod\nspec:\n  containers: []\n", "spec.containers is missing or empty"),
            ("name: no-kind\n", "has no kind"),
            ("kind: List\nitems: [1]\n", "items[0] is not a Kubernetes object"),
        ]
        for (input, expected) in cases {
            do {
                _ = try ManifestInjector.inject(input, options: InjectOptions())
                Issue.record("accepted: \(input)")
            } catch {
                #expect(error.description.contains(expected), "\(error.description)")
                #expect(!error.description.contains("\n"))
            }
        }
    }

    @Test func emptyInputAndEmptyDocumentsAreFine() throws {
        #expect(try ManifestInjector.inject("", options: InjectOptions()) == "")
        let output = try ManifestInjector.inject("---\n---\n" + (try Self.fixture("pod.yaml")), options: InjectOptions())
        #expect(try Self.pods(output).count == 1)
    }
}
