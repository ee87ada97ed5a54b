import Foundation
import OspreyIngest
import OspreyModel
import Yams

extension OspreyConfig {
    /// The `otlp:` section, as Prometheus 3 has it (plus `convert_delta_to_cumulative`).
    static func parseOTLP(_ node: YAMLNodeReader, global: Global) throws(ConfigError) -> OTLPOptions {
        var options = OTLPOptions()
        let fields = try node.mapping(
            allowed: [
                "promote_resource_attributes", "promote_all_resource_attributes", "ignore_resource_attributes",
                "translation_strategy", "keep_identifying_resource_attributes", "promote_scope_metadata",
                "convert_histograms_to_nhcb", "label_name_underscore_sanitization", "label_name_preserve_multiple_underscores",
                "convert_delta_to_cumulative",
            ])
        if let value = fields["translation_strategy"] {
            let text = try value.scalar()
            guard let strategy = OTLPTranslationStrategy(rawValue: text) else {
                let known = OTLPTranslationStrategy.allCases.map(\.rawValue).joined(separator: ", ")
                throw value.error("unsupported OTLP translation strategy \"\(text)\" (use one of \(known))")
            }
            if !strategy.escapes && global.metricNameValidationScheme == .legacy {
                throw value.error("OTLP translation strategy \"\(text)\" is not allowed when global.metric_name_validation_scheme is legacy")
            }
            options.translationStrategy = strategy
        }
        if let value = fields["promote_resource_attributes"] { options.promoteResourceAttributes = try attributeList(value) }
        if let value = fields["promote_all_resource_attributes"] { options.promoteAllResourceAttributes = try value.bool() }
        if let value = fields["ignore_resource_attributes"] { options.ignoreResourceAttributes = try attributeList(value) }
        if options.promoteAllResourceAttributes && !options.promoteResourceAttributes.isEmpty {
            throw node.error("promote_all_resource_attributes and promote_resource_attributes are mutually exclusive")
        }
        if !options.ignoreResourceAttributes.isEmpty && !options.promoteAllResourceAttributes {
            throw node.error("ignore_resource_attributes is only valid with promote_all_resource_attributes: true")
        }
        if let value = fields["keep_identifying_resource_attributes"] { options.keepIdentifyingResourceAttributes = try value.bool() }
        if let value = fields["promote_scope_metadata"] { options.promoteScopeMetadata = try value.bool() }
        if let value = fields["convert_delta_to_cumulative"] { options.convertDeltaToCumulative = try value.bool() }
        if let value = fields["convert_histograms_to_nhcb"], try value.bool() {
            throw value.error("native histograms are not stored by this version of Osprey; remove convert_histograms_to_nhcb or set it to false")
        }
        for key in ["label_name_underscore_sanitization", "label_name_preserve_multiple_underscores"] {
            if let value = fields[key], try !value.bool() {
                throw value.error("only the default (true) is supported by this version of Osprey")
            }
        }
        return options
    }

    /// A list of attribute names: trimmed, non-empty, each once.
    private static func attributeList(_ node: YAMLNodeReader) throws(ConfigError) -> [String] {
        guard case .sequence(let items) = node.node else { throw node.error("expected a list of attribute names") }
        var names: [String] = []
        for item in items {
            let name = (item.string ?? "").trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else {
                throw ConfigError(file: node.file, line: item.mark?.line, key: node.path, message: "empty attribute name")
            }
            guard !names.contains(name) else {
                throw ConfigError(file: node.file, line: item.mark?.line, key: node.path, message: "duplicated attribute name \"\(name)\"")
            }
            names.append(name)
        }
        return names
    }
}
