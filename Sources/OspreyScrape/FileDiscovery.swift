#if canImport(Glibc)
import Glibc
#endif
import Foundation
package import OspreyModel
import Yams

/// `file_sd_configs`: target groups from JSON or YAML files (`[{targets: [...], labels:
/// {...}}]`), each target labelled `__meta_filepath`. The last path element may hold `*`
/// and `?` wildcards, as Prometheus allows.
package enum FileDiscovery {
    /// A file that cannot be used; `description` names it (and the line, for YAML).
    package struct Failure: Error, Hashable, Sendable, CustomStringConvertible {
        package var description: String
    }

    /// The files the patterns name now, sorted.
    package static func files(matching patterns: [String]) -> [String] {
        var out: Set<String> = []
        for pattern in patterns {
            let directory = (pattern as NSString).deletingLastPathComponent
            let name = (pattern as NSString).lastPathComponent
            guard name.contains("*") || name.contains("?") else {
                if FileManager.default.fileExists(atPath: pattern) { out.insert(pattern) }
                continue
            }
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory)) ?? []
            for entry in entries where fnmatch(name, entry, 0) == 0 {
                out.insert(directory.isEmpty ? entry : (directory as NSString).appendingPathComponent(entry))
            }
        }
        return out.sorted()
    }

    /// The groups of one file: JSON when it ends in `.json`, else YAML.
    package static func groups(inFile path: String) throws(Failure) -> [TargetGroup] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw Failure(description: "\(path): cannot read the file: \(error.localizedDescription)")
        }
        return try groups(parsing: text, path: path)
    }

    /// Parses the text of a target file (YAML is a superset of the JSON form).
    package static func groups(parsing text: String, path: String) throws(Failure) -> [TargetGroup] {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw Failure(description: "\(path): invalid \(path.hasSuffix(".json") ? "JSON" : "YAML"): \(error)")
        }
        guard let root else { return [] }
        guard case .sequence(let entries) = root else {
            throw Failure(description: "\(path):\(root.mark?.line ?? 1): expected a list of target groups")
        }
        var out: [TargetGroup] = []
        for (index, entry) in entries.enumerated() {
            let line = entry.mark?.line ?? 0
            guard case .mapping(let mapping) = entry else {
                throw Failure(description: "\(path):\(line): a target group must be a mapping with targets and labels")
            }
            var targets: [String] = []
            var labels: [Label] = [Label(name: "__meta_filepath", value: path)]
            for (keyNode, value) in mapping {
                switch keyNode.string {
                case "targets":
                    guard case .sequence(let items) = value else {
                        throw Failure(description: "\(path):\(value.mark?.line ?? line): targets must be a list of host:port addresses")
                    }
                    for item in items {
                        guard case .scalar(let scalar) = item else {
                            throw Failure(description: "\(path):\(item.mark?.line ?? line): a target must be a host:port string")
                        }
                        guard !scalar.string.contains("/") else {
                            throw Failure(description: "\(path):\(item.mark?.line ?? line): \"\(scalar.string)\" is not a valid hostname")
                        }
                        targets.append(scalar.string)
                    }
                case "labels":
                    guard case .mapping(let pairs) = value else {
                        throw Failure(description: "\(path):\(value.mark?.line ?? line): labels must be a mapping of names to values")
                    }
                    for (name, labelValue) in pairs {
                        guard let labelName = name.string, case .scalar(let scalar) = labelValue, NameValidationScheme.utf8.isValidLabelName(labelName) else {
                            throw Failure(description: "\(path):\(name.mark?.line ?? line): labels must be name: value pairs")
                        }
                        labels.append(Label(name: labelName, value: scalar.string))
                    }
                default:
                    throw Failure(description: "\(path):\(keyNode.mark?.line ?? line): unknown key \"\(keyNode.string ?? "")\" (known: targets, labels)")
                }
            }
            out.append(TargetGroup(targets: targets, labels: Labels(sorting: labels), source: "\(path):\(index)"))
        }
        return out
    }
}
