import Yams

/// Building and editing Yams node trees in place, keeping every key's position and every scalar's style.
enum YAMLNodes {
    /// A string scalar that reads back as a string: plain when that is unambiguous, double-quoted when plain would
    /// read as a number, a boolean or null (a label value `"true"`, a port name `"8000"`).
    static func string(_ value: String) -> Node {
        let plain = Node(value)
        if plain.tag.rawValue == Tag.Name.str.rawValue { return plain }
        return Node(value, Tag(.str), .doubleQuoted)
    }

    static func int(_ value: Int) -> Node {
        Node(String(value))
    }

    static func bool(_ value: Bool) -> Node {
        Node(value ? "true" : "false")
    }

    static func mapping(_ pairs: [(String, Node)]) -> Node {
        .mapping(Node.Mapping(pairs.map { (string($0.0), $0.1) }))
    }

    static func sequence(_ nodes: [Node]) -> Node {
        .sequence(Node.Sequence(nodes))
    }

    /// The `name` of each mapping in a sequence (containers, volumes, env).
    static func name(of node: Node) -> String? {
        node.mapping?["name"]?.string
    }
}

extension Node.Mapping {
    /// Runs `body` on the mapping under `key` and writes it back in its place; with `create`, an absent key is
    /// added (at the end) as an empty mapping. Nil when the key is absent and not created. A value that is not a
    /// mapping is an error naming `path`.
    mutating func editMapping<T>(
        _ key: String, create: Bool = false, path: String, _ body: (inout Node.Mapping) throws(InjectError) -> T
    ) throws(InjectError) -> T? {
        var inner: Node.Mapping
        switch self[key] {
        case .some(.mapping(let found)):
            inner = found
        case let value where value == nil || value?.isNull == true:
            guard create else { return nil }
            inner = Node.Mapping([])
        default:
            throw InjectError("\(path)\(key) is not a mapping")
        }
        let result = try body(&inner)
        self[key] = .mapping(inner)
        return result
    }

    /// The sequence under `key` (empty when absent); an error naming `path` when it is something else.
    func sequence(_ key: String, path: String) throws(InjectError) -> [Node] {
        switch self[key] {
        case .none: return []
        case .some(.sequence(let found)): return Array(found)
        case .some(let value) where value.isNull: return []
        case .some: throw InjectError("\(path)\(key) is not a list")
        }
    }

    /// Sets the sequence under `key`, keeping the old sequence's style when there was one.
    mutating func setSequence(_ key: String, _ nodes: [Node]) {
        if case .sequence(var old) = self[key] {
            old.replaceSubrange(old.startIndex..<old.endIndex, with: nodes)
            self[key] = .sequence(old)
        } else {
            self[key] = .sequence(Node.Sequence(nodes))
        }
    }
}

extension Node {
    /// `null`, `~` or nothing at all (`key:`), which Kubernetes reads as an absent field.
    var isNull: Bool { tag.rawValue == Tag.Name.null.rawValue }
}
