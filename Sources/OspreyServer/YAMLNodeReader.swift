import Yams

/// Walks a YAML document with key paths and line numbers for errors, rejecting unknown keys.
struct YAMLNodeReader {
    let file: String
    let node: Node
    let path: String

    /// The line of this node (1-based).
    var line: Int? { node.mark?.line }

    func error(_ message: String, key: String? = nil) -> ConfigError {
        ConfigError(file: file, line: line, key: key ?? (path.isEmpty ? nil : path), message: message)
    }

    /// The mapping's entries in order; throws if this node is not a mapping or has a key outside
    /// `allowed`.
    func mapping(allowed: Set<String>, unsupported: [String: String] = [:]) throws(ConfigError) -> [String: YAMLNodeReader] {
        guard case .mapping(let mapping) = node else {
            throw error("expected a mapping")
        }
        var out: [String: YAMLNodeReader] = [:]
        for (keyNode, valueNode) in mapping {
            let key = keyNode.string ?? ""
            let childPath = path.isEmpty ? key : "\(path).\(key)"
            if let reason = unsupported[key] {
                throw ConfigError(file: file, line: keyNode.mark?.line, key: childPath, message: reason)
            }
            guard allowed.contains(key) else {
                let known = allowed.sorted().joined(separator: ", ")
                throw ConfigError(file: file, line: keyNode.mark?.line, key: childPath, message: "unknown key (known keys here: \(known))")
            }
            guard out[key] == nil else {
                throw ConfigError(file: file, line: keyNode.mark?.line, key: childPath, message: "key appears more than once")
            }
            out[key] = YAMLNodeReader(file: file, node: valueNode, path: childPath)
        }
        return out
    }

    /// The scalar text; throws if this node is not a scalar.
    func scalar() throws(ConfigError) -> String {
        guard case .scalar(let scalar) = node else { throw error("expected a single value") }
        return scalar.string
    }

    /// A Prometheus duration in ms.
    func durationMs(parse: (String) -> Int64?) throws(ConfigError) -> Int64 {
        let text = try scalar()
        guard let value = parse(text) else {
            throw error("invalid duration \"\(text)\" (use Prometheus syntax such as 30s, 5m, 1h30m)")
        }
        return value
    }

    /// A boolean.
    func bool() throws(ConfigError) -> Bool {
        switch try scalar().lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        case let other: throw error("invalid boolean \"\(other)\" (use true or false)")
        }
    }

    /// A string-to-string mapping (labels).
    func stringMap() throws(ConfigError) -> [(String, String, Int?)] {
        guard case .mapping(let mapping) = node else { throw error("expected a mapping of names to values") }
        var out: [(String, String, Int?)] = []
        for (keyNode, valueNode) in mapping {
            guard let key = keyNode.string, case .scalar(let value) = valueNode else {
                throw ConfigError(file: file, line: keyNode.mark?.line, key: path, message: "expected name: value pairs")
            }
            out.append((key, value.string, keyNode.mark?.line))
        }
        return out
    }
}
