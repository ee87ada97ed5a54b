import OspreyModel

/// What a resource contributes to its series: `job` and `instance` from `service.*`, promoted
/// attributes, and the labels of its `target_info` series.
struct OTLPResourceContext {
    static let serviceName = "service.name"
    static let serviceNamespace = "service.namespace"
    static let serviceInstanceID = "service.instance.id"

    /// `job` and `instance`: they override point attributes of the same name.
    var identifying: [Label] = []
    /// Promoted attributes, named as labels: added where a point has no label of that name.
    var promoted: [Label] = []
    /// `target_info`'s labels (without `__name__`); nil when the resource has no attributes
    /// besides the identifying ones.
    var targetInfo: [Label]?
    /// Bytes identifying the resource's labels, for series fingerprints.
    var key: [UInt8] = []
    /// Why the resource's points cannot be stored, if they cannot.
    var problem: String?
    /// Range of the timestamps of the resource's stored points.
    var minTimeMs: Int64 = .max
    var maxTimeMs: Int64 = .min

    init(attributes: [OTLPAttributes.Attribute], options: OTLPOptions, namer: OTLPNamer, limits: OTLPLimits) {
        if let problem = OTLPLabelMerger.limitProblem(attributes, limits: limits, what: "resource") {
            self.problem = problem
            return
        }
        // As pdata's Map.Get: the first attribute of a key.
        let value = { (key: String) -> String? in attributes.first { $0.key == key }?.value }
        if let name = value(Self.serviceName) {
            if let namespace = value(Self.serviceNamespace) {
                identifying.append(Label(name: "job", value: namespace + "/" + name))
            } else {
                identifying.append(Label(name: "job", value: name))
            }
        }
        if let instance = value(Self.serviceInstanceID) {
            identifying.append(Label(name: "instance", value: instance))
        }
        identifying.removeAll { $0.value.isEmpty }

        let promotedAttributes: [OTLPAttributes.Attribute]
        if options.promoteAllResourceAttributes {
            promotedAttributes = attributes.filter { !options.ignoreResourceAttributes.contains($0.key) }
        } else {
            promotedAttributes = attributes.filter { options.promoteResourceAttributes.contains($0.key) }
        }
        do {
            promoted = try OTLPLabelMerger.merge(promotedAttributes, namer: namer, joiningCollisions: false)
        } catch {
            problem = "promoted resource attributes: \(error.message)"
            return
        }
        let identifyingKeys = [Self.serviceName, Self.serviceNamespace, Self.serviceInstanceID]
        let nonIdentifying = attributes.filter { !identifyingKeys.contains($0.key) }
        // target_info carries what job and instance do not, and needs one of them to be joined
        // on. A resource whose attributes give no valid labels (or too many) gets none; its
        // points are stored all the same.
        if !nonIdentifying.isEmpty && !identifying.isEmpty {
            let shown = options.keepIdentifyingResourceAttributes ? attributes : nonIdentifying
            if var labels = try? OTLPLabelMerger.merge(shown, namer: namer) {
                OTLPLabelMerger.override(&labels, with: identifying)
                if labels.count < limits.labelLimit { targetInfo = labels }
            }
        }
        OTLPLabelMerger.appendKey(identifying, to: &key)
        OTLPLabelMerger.appendKey(promoted, to: &key)
    }
}

/// What an instrumentation scope contributes: `otel_scope_*` labels when promoted.
struct OTLPScopeContext {
    var name = ""
    var version = ""
    var schemaURL = ""
    var attributes: [OTLPAttributes.Attribute] = []
    /// Labels that override point attributes of the same name.
    var labels: [Label] = []
    /// Bytes identifying the scope's labels, for series fingerprints.
    var key: [UInt8] = []
    /// Why the scope's points cannot be stored, if they cannot.
    var problem: String?

    /// Decodes an `InstrumentationScope` (name 1, version 2, attributes 3).
    mutating func decode(_ reader: inout ProtoReader) throws(IngestError) {
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            switch field {
            case 1:
                try reader.expect(wire, .lengthDelimited, field: field)
                name = try reader.readString()
            case 2:
                try reader.expect(wire, .lengthDelimited, field: field)
                version = try reader.readString()
            case 3:
                try reader.expect(wire, .lengthDelimited, field: field)
                var entry = try reader.readMessage()
                attributes.append(try OTLPAttributes.keyValue(&entry))
            default:
                try reader.skip(wire)
            }
        }
    }

    /// Computes the scope's labels: only with `promote_scope_metadata` and a named scope.
    mutating func finish(options: OTLPOptions, namer: OTLPNamer, limits: OTLPLimits) {
        guard options.promoteScopeMetadata, !name.isEmpty else { return }
        if let problem = OTLPLabelMerger.limitProblem(attributes, limits: limits, what: "scope") {
            self.problem = problem
            return
        }
        var labels: [Label] = []
        do {
            let prefixed = attributes.map { (key: "otel_scope_" + $0.key, value: $0.value) }
            labels = try OTLPLabelMerger.merge(prefixed, namer: namer, joiningCollisions: false)
        } catch {
            problem = "scope attributes: \(error.message)"
        }
        OTLPLabelMerger.override(&labels, with: [
            Label(name: "otel_scope_name", value: name),
            Label(name: "otel_scope_version", value: version),
            Label(name: "otel_scope_schema_url", value: schemaURL),
        ])
        self.labels = labels.filter { !$0.value.isEmpty }
        OTLPLabelMerger.appendKey(self.labels, to: &key)
    }
}

/// Builds label sets from attributes as Prometheus' `createAttributes` does.
enum OTLPLabelMerger {
    /// Attributes as labels: sorted by key, names translated, values of keys that translate to
    /// the same name joined with `;` in key order (or the later one kept). An attribute named
    /// `__name__` is dropped, empty values are dropped; a key with no valid name is an error.
    static func merge(_ attributes: [OTLPAttributes.Attribute], namer: OTLPNamer, joiningCollisions: Bool = true) throws(IngestError) -> [Label] {
        guard !attributes.isEmpty else { return [] }
        var sorted = attributes
        if sorted.count > 1 {
            // Stable sort by key (Go's sort.Stable on label names).
            sorted = sorted.enumerated().sorted { a, b in
                a.element.key == b.element.key ? a.offset < b.offset : a.element.key.utf8.lexicographicallyPrecedes(b.element.key.utf8)
            }.map(\.element)
        }
        var labels: [Label] = []
        labels.reserveCapacity(sorted.count)
        var positions: [String: Int] = [:]
        for attribute in sorted where attribute.key != Labels.metricNameLabel {
            guard let name = namer.labelName(attribute.key) else {
                throw IngestError(code: .badRequest, message: "attribute key \"\(attribute.key)\" gives no valid label name")
            }
            if let index = positions[name] {
                if joiningCollisions && !labels[index].value.isEmpty {
                    labels[index].value += ";" + attribute.value
                } else {
                    labels[index].value = attribute.value
                }
            } else {
                positions[name] = labels.count
                labels.append(Label(name: name, value: attribute.value))
            }
        }
        labels.removeAll { $0.value.isEmpty }
        return labels
    }

    /// Appends an unambiguous encoding of `labels` (lengths before names and values) to `key`.
    static func appendKey(_ labels: [Label], to key: inout [UInt8]) {
        func appendLength(_ count: Int) {
            withUnsafeBytes(of: UInt32(truncatingIfNeeded: count).littleEndian) { key.append(contentsOf: $0) }
        }
        appendLength(labels.count)
        for label in labels {
            appendLength(label.name.utf8.count)
            key.append(contentsOf: label.name.utf8)
            appendLength(label.value.utf8.count)
            key.append(contentsOf: label.value.utf8)
        }
    }

    /// Why a resource's or scope's attributes break the limits, if they do.
    static func limitProblem(_ attributes: [OTLPAttributes.Attribute], limits: OTLPLimits, what: String) -> String? {
        if attributes.count > limits.attributeCountLimit {
            return "\(what) has \(attributes.count) attributes, more than the limit of \(limits.attributeCountLimit)"
        }
        for attribute in attributes {
            if attribute.key.utf8.count > limits.attributeKeyLengthLimit {
                return "\(what) attribute key \"\(attribute.key.prefix(64))…\" longer than \(limits.attributeKeyLengthLimit) bytes"
            }
            if attribute.value.utf8.count > limits.attributeValueLengthLimit {
                return "value of \(what) attribute \"\(attribute.key.prefix(64))\" longer than \(limits.attributeValueLengthLimit) bytes"
            }
        }
        return nil
    }

    /// Sets every label of `overrides` in `labels`, replacing one of the same name.
    static func override(_ labels: inout [Label], with overrides: [Label]) {
        for label in overrides {
            if let index = labels.firstIndex(where: { $0.name == label.name }) {
                labels[index].value = label.value
            } else {
                labels.append(label)
            }
        }
    }

    /// Adds every label of `defaults` that `labels` has no label of that name for.
    static func addMissing(_ labels: inout [Label], from defaults: [Label]) {
        for label in defaults where !labels.contains(where: { $0.name == label.name }) {
            labels.append(label)
        }
    }
}
