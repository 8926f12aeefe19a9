import Yams

/// Adds the native sidecar to one pod (its `metadata` and `spec`), or takes it out again: the edit inject makes to
/// every workload (docs/operations.md, "Kubernetes").
enum PodTemplateInjection {
    /// Adds the sidecar unless the pod has it already (then nothing changes: inject is idempotent). `where` names
    /// the pod in errors (`Deployment 'api' spec.template.`).
    static func inject(
        metadata: inout Node.Mapping, metadataCreated: Bool, spec: inout Node.Mapping, options: InjectOptions,
        where path: String
    ) throws(InjectError) {
        let initContainers = try spec.sequence("initContainers", path: path + "spec.")
        if initContainers.contains(where: { YAMLNodes.name(of: $0) == InjectOptions.containerName }) { return }
        let containers = try spec.sequence("containers", path: path + "spec.")
        if containers.isEmpty { throw InjectError("\(path)spec.containers is missing or empty") }
        var record = InjectionRecord()
        if metadataCreated { record.created.append("metadata") }

        if spec["initContainers"] == nil || spec["initContainers"]?.isNull == true { record.created.append("initContainers") }
        spec.setSequence("initContainers", [sidecar(options)] + initContainers)

        let volumes = try spec.sequence("volumes", path: path + "spec.")
        if volumes.contains(where: { YAMLNodes.name(of: $0) == InjectOptions.volumeName }) {
            throw InjectError("\(path)spec.volumes already has a volume named \(InjectOptions.volumeName)")
        }
        if spec["volumes"] == nil || spec["volumes"]?.isNull == true { record.created.append("volumes") }
        spec.setSequence(
            "volumes",
            volumes + [
                YAMLNodes.mapping([
                    ("name", YAMLNodes.string(InjectOptions.volumeName)),
                    ("emptyDir", YAMLNodes.mapping([("sizeLimit", YAMLNodes.string("\(options.spoolVolumeMB)Mi"))])),
                ])
            ])

        let baseURL = options.baseURL
        var edited: [Node] = []
        for (index, node) in containers.enumerated() {
            guard case .mapping(var container) = node else {
                throw InjectError("\(path)spec.containers[\(index)] is not a mapping")
            }
            let name = YAMLNodes.name(of: node) ?? "\(index)"
            let env = try container.sequence("env", path: "\(path)spec.containers[\(index)].")
            if !env.contains(where: { YAMLNodes.name(of: $0) == baseURL.name }) {
                if container["env"] == nil || container["env"]?.isNull == true { record.created.append("env:\(name)") }
                container.setSequence(
                    "env",
                    env + [
                        YAMLNodes.mapping([
                            ("name", YAMLNodes.string(baseURL.name)), ("value", YAMLNodes.string(baseURL.value)),
                        ])
                    ])
                record.env[name, default: []].append(baseURL.name)
            }
            edited.append(.mapping(container))
        }
        spec.setSequence("containers", edited)

        let grace = spec["terminationGracePeriodSeconds"]
        let current = grace?.int
        if grace != nil && grace?.isNull != true && current == nil {
            throw InjectError("\(path)spec.terminationGracePeriodSeconds is not a number")
        }
        if (current ?? 30) < InjectOptions.minimumGraceSeconds {
            record.grace = current
            record.graceChanged = true
            spec["terminationGracePeriodSeconds"] = YAMLNodes.int(InjectOptions.minimumGraceSeconds)
        }

        let hadLabels = metadata["labels"] != nil && metadata["labels"]?.isNull != true
        let labelAdded = try metadata.editMapping("labels", create: true, path: path + "metadata.") {
            (labels) throws(InjectError) -> Bool in
            guard labels[InjectOptions.agentLabel] == nil else { return false }
            labels[InjectOptions.agentLabel] = YAMLNodes.string("true")
            return true
        }
        if !hadLabels { record.created.append("labels") }
        record.label = labelAdded ?? false
        let hadAnnotations = metadata["annotations"] != nil && metadata["annotations"]?.isNull != true
        if !hadAnnotations { record.created.append("annotations") }
        _ = try metadata.editMapping("annotations", create: true, path: path + "metadata.") {
            (annotations) throws(InjectError) in
            annotations[InjectOptions.recordAnnotation] = YAMLNodes.string(record.encoded())
        }
    }

    /// Removes what inject added, as its record says, and restores what it changed. A pod without the record is
    /// left alone: its sidecar, if any, was not put there by inject.
    static func uninject(metadata: inout Node.Mapping, spec: inout Node.Mapping, where path: String) throws(InjectError)
        -> ManifestInjector.PodEditResult
    {
        guard case .mapping(var annotations) = metadata["annotations"],
            let text = annotations[InjectOptions.recordAnnotation]?.string
        else { return .unchanged }
        guard let record = InjectionRecord.decoded(text) else {
            throw InjectError("\(path)metadata.annotations[\(InjectOptions.recordAnnotation)] is not inject's record")
        }
        let created = Set(record.created)
        remove(InjectOptions.containerName, from: "initContainers", of: &spec, dropEmpty: created.contains("initContainers"))
        remove(InjectOptions.volumeName, from: "volumes", of: &spec, dropEmpty: created.contains("volumes"))
        var containers: [Node] = []
        for (index, node) in (try spec.sequence("containers", path: path + "spec.")).enumerated() {
            guard case .mapping(var container) = node else { containers.append(node); continue }
            let name = YAMLNodes.name(of: node) ?? "\(index)"
            for variable in record.env[name] ?? [] {
                remove(variable, from: "env", of: &container, dropEmpty: created.contains("env:\(name)"))
            }
            containers.append(.mapping(container))
        }
        spec.setSequence("containers", containers)
        if record.graceChanged {
            spec["terminationGracePeriodSeconds"] = record.grace.map(YAMLNodes.int)
        }
        if record.label, case .mapping(var labels) = metadata["labels"] {
            labels[InjectOptions.agentLabel] = nil
            metadata["labels"] = labels.isEmpty && created.contains("labels") ? nil : .mapping(labels)
        }
        annotations[InjectOptions.recordAnnotation] = nil
        metadata["annotations"] = annotations.isEmpty && created.contains("annotations") ? nil : .mapping(annotations)
        return .edited(dropEmptyMetadata: created.contains("metadata"))
    }

    /// Takes the entry named `name` out of the list `key`; drops the key once the list is empty when inject made it.
    private static func remove(_ name: String, from key: String, of mapping: inout Node.Mapping, dropEmpty: Bool) {
        guard case .sequence(var list) = mapping[key] else { return }
        list.removeAll { YAMLNodes.name(of: $0) == name }
        mapping[key] = list.isEmpty && dropEmpty ? nil : .sequence(list)
    }

    /// The native sidecar: an init container that keeps running (`restartPolicy: Always`), started before the
    /// agent containers and stopped after them.
    static func sidecar(_ options: InjectOptions) -> Node {
        let s = YAMLNodes.string
        func env(_ name: String, _ value: String) -> Node {
            YAMLNodes.mapping([("name", s(name)), ("value", s(value))])
        }
        func probe(_ path: String, period: Int, failures: Int) -> Node {
            YAMLNodes.mapping([
                ("httpGet", YAMLNodes.mapping([("path", s(path)), ("port", s("agentledger"))])),
                ("periodSeconds", YAMLNodes.int(period)), ("failureThreshold", YAMLNodes.int(failures)),
            ])
        }
        return YAMLNodes.mapping([
            ("name", s(InjectOptions.containerName)),
            ("image", s(options.image)),
            ("args", YAMLNodes.sequence([s("sidecar")])),
            ("restartPolicy", s("Always")),
            (
                "ports",
                YAMLNodes.sequence([
                    YAMLNodes.mapping([("name", s("agentledger")), ("containerPort", YAMLNodes.int(options.port))])
                ])
            ),
            (
                "env",
                YAMLNodes.sequence([
                    // The kubelet probes the pod's address, so the proxy listens on all of the pod's interfaces.
                    env("AGENTLEDGER_HOST", "0.0.0.0"),
                    env("AGENTLEDGER_PORT", String(options.port)),
                    env("AGENTLEDGER_UPSTREAM_URL", options.upstreamURL),
                    env("AGENTLEDGER_COLLECTOR", options.collector),
                    YAMLNodes.mapping([
                        ("name", s("AGENTLEDGER_INGEST_TOKEN")),
                        (
                            "valueFrom",
                            YAMLNodes.mapping([
                                (
                                    "secretKeyRef",
                                    YAMLNodes.mapping([
                                        ("name", s(options.tokenSecret)), ("key", s(options.tokenSecretKey)),
                                    ])
                                )
                            ])
                        ),
                    ]),
                    YAMLNodes.mapping([
                        ("name", s("AGENTLEDGER_SOURCE")),
                        (
                            "valueFrom",
                            YAMLNodes.mapping([
                                ("fieldRef", YAMLNodes.mapping([("fieldPath", s("metadata.name"))]))
                            ])
                        ),
                    ]),
                    env("AGENTLEDGER_SPOOL_DIR", "/var/lib/agentledger/spool"),
                    env("AGENTLEDGER_SPOOL_MAX_MB", String(options.spoolMB)),
                    env("AGENTLEDGER_ON_COLLECTOR_DOWN", options.onCollectorDown),
                ])
            ),
            // The agent starts once the proxy listens; the pod is ready while a call would be served.
            ("startupProbe", probe("/agentledger/healthz", period: 1, failures: 30)),
            ("readinessProbe", probe("/agentledger/readyz", period: 5, failures: 2)),
            ("livenessProbe", probe("/agentledger/healthz", period: 10, failures: 3)),
            // docs/benchmarks.md, "sidecar RSS idle / at 500 requests/s" (10.7 / 20.5 MiB, peak 36 MiB) and
            // "call path" (53–56 µs of CPU per call: 500 calls/s is about 30 millicores).
            (
                "resources",
                YAMLNodes.mapping([
                    ("requests", YAMLNodes.mapping([("cpu", s("50m")), ("memory", s("64Mi"))])),
                    ("limits", YAMLNodes.mapping([("memory", s("256Mi"))])),
                ])
            ),
            (
                "securityContext",
                YAMLNodes.mapping([
                    ("runAsNonRoot", YAMLNodes.bool(true)),
                    ("runAsUser", YAMLNodes.int(65532)),
                    ("runAsGroup", YAMLNodes.int(65532)),
                    ("readOnlyRootFilesystem", YAMLNodes.bool(true)),
                    ("allowPrivilegeEscalation", YAMLNodes.bool(false)),
                    ("capabilities", YAMLNodes.mapping([("drop", YAMLNodes.sequence([s("ALL")]))])),
                    ("seccompProfile", YAMLNodes.mapping([("type", s("RuntimeDefault"))])),
                ])
            ),
            (
                "volumeMounts",
                YAMLNodes.sequence([
                    YAMLNodes.mapping([("name", s(InjectOptions.volumeName)), ("mountPath", s("/var/lib/agentledger"))])
                ])
            ),
        ])
    }
}
