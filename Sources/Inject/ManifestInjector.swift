import Foundation
import Yams

/// `agentledger inject`: Kubernetes YAML in (one or many documents, `List`s too), the same YAML out with the native
/// sidecar added to every Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob and Pod, or taken out again
/// (docs/operations.md, "Kubernetes"). Every other object and field passes through unchanged.
package enum ManifestInjector {
    /// Kinds whose pod template is `spec.template`.
    static let templated: Set<String> = ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"]

    /// The input with the sidecar in every workload; workloads that have it already are unchanged.
    package static func inject(_ yaml: String, options: InjectOptions) throws(InjectError) -> String {
        if let problem = options.validationError() { throw InjectError(problem) }
        return try transform(yaml) { (metadata, created, spec, path) throws(InjectError) in
            try PodTemplateInjection.inject(
                metadata: &metadata, metadataCreated: created, spec: &spec, options: options, where: path)
            return .edited(dropEmptyMetadata: false)
        }
    }

    /// The input with what inject added taken out of every workload, and what it changed restored.
    package static func uninject(_ yaml: String) throws(InjectError) -> String {
        try transform(yaml) { (metadata, _, spec, path) throws(InjectError) in
            try PodTemplateInjection.uninject(metadata: &metadata, spec: &spec, where: path)
        }
    }

    /// A pod's metadata, whether it was created for the edit, its spec, and its place for errors.
    typealias PodEdit = (inout Node.Mapping, Bool, inout Node.Mapping, String) throws(InjectError) -> PodEditResult

    /// What an edit did to a pod.
    enum PodEditResult {
        case unchanged
        /// `dropEmptyMetadata`: the metadata was created by inject, and goes again if nothing is left in it.
        case edited(dropEmptyMetadata: Bool)
    }

    static func transform(_ yaml: String, _ edit: PodEdit) throws(InjectError) -> String {
        var documents: [Node] = []
        do {
            var sequence = try Yams.compose_all(yaml: yaml)
            while let document = sequence.next() { documents.append(document) }
            if let error = sequence.error { throw error }
        } catch {
            throw InjectError("the input is not YAML: \(Self.oneLine(error))")
        }
        for index in documents.indices {
            guard case .mapping(var object) = documents[index] else {
                if documents[index].isNull { continue }
                throw InjectError("document \(index + 1) is not a Kubernetes object (a mapping with kind)")
            }
            try visit(&object, path: "document \(index + 1)", edit)
            documents[index] = .mapping(object)
        }
        if documents.isEmpty { return "" }
        do {
            return try Yams.serialize(nodes: documents, width: -1, allowUnicode: true, explicitStart: documents.count > 1)
        } catch {
            throw InjectError("the output could not be written as YAML: \(Self.oneLine(error))")
        }
    }

    /// Edits the pods of one object: its items for a `List`, its pod template for a workload.
    static func visit(_ object: inout Node.Mapping, path: String, _ edit: PodEdit) throws(InjectError) {
        guard let kind = object["kind"]?.string else {
            throw InjectError("\(path) has no kind: not a Kubernetes object")
        }
        let name = object["metadata"]?.mapping?["name"]?.string ?? object["metadata"]?.mapping?["generateName"]?.string
        let here = "\(path) (\(kind)\(name.map { " '\($0)'" } ?? ""))"
        if kind.hasSuffix("List") {
            var items = try object.sequence("items", path: here + " ")
            for index in items.indices {
                guard case .mapping(var item) = items[index] else {
                    throw InjectError("\(here) items[\(index)] is not a Kubernetes object")
                }
                try visit(&item, path: "\(here) items[\(index)]", edit)
                items[index] = .mapping(item)
            }
            if object["items"] != nil && object["items"]?.isNull != true { object.setSequence("items", items) }
            return
        }
        if kind == "Pod" {
            return try editPod(&object, path: "\(here) ", edit)
        }
        let templatePath: [String]
        if templated.contains(kind) {
            templatePath = ["spec", "template"]
        } else if kind == "CronJob" {
            templatePath = ["spec", "jobTemplate", "spec", "template"]
        } else {
            return
        }
        try descend(&object, templatePath[...], path: "\(here) ", edit)
    }

    private static func descend(
        _ mapping: inout Node.Mapping, _ keys: ArraySlice<String>, path: String, _ edit: PodEdit
    ) throws(InjectError) {
        guard let key = keys.first else { return try editPod(&mapping, path: path, edit) }
        let found: Void? = try mapping.editMapping(key, path: path) { (inner) throws(InjectError) in
            try descend(&inner, keys.dropFirst(), path: "\(path)\(key).", edit)
        }
        if found == nil { throw InjectError("\(path)\(key) is missing") }
    }

    /// Runs `edit` on a pod (a Pod object or a pod template): its `metadata` (created when absent) and `spec`.
    private static func editPod(_ pod: inout Node.Mapping, path: String, _ edit: PodEdit) throws(InjectError) {
        let hadMetadata = pod["metadata"] != nil && pod["metadata"]?.isNull != true
        guard case .mapping(var spec) = pod["spec"] else { throw InjectError("\(path)spec is missing or not a mapping") }
        var metadata: Node.Mapping
        switch pod["metadata"] {
        case .some(.mapping(let found)): metadata = found
        case let value where value == nil || value?.isNull == true: metadata = Node.Mapping([])
        default: throw InjectError("\(path)metadata is not a mapping")
        }
        guard case .edited(let dropEmptyMetadata) = try edit(&metadata, !hadMetadata, &spec, path) else { return }
        pod["spec"] = .mapping(spec)
        if metadata.isEmpty && (dropEmptyMetadata || !hadMetadata) {
            pod["metadata"] = nil
        } else {
            pod["metadata"] = .mapping(metadata)
        }
    }

    /// An error's text on one line: the parser's message without the excerpt of the input it quotes after it.
    static func oneLine(_ error: any Error) -> String {
        var kept: [String] = []
        for line in "\(error)".split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            if trimmed.hasSuffix(":") {
                kept.append(String(trimmed.dropLast()))
                break
            }
            kept.append(trimmed)
        }
        return kept.joined(separator: "; ")
    }
}
