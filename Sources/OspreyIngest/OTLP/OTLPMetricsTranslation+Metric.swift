import OspreyModel
import OspreyStorage

/// One metric's translation: its Prometheus name, metadata and identity.
struct OTLPMetricContext {
    /// The Prometheus name (before `_bucket`, `_sum`, `_count`).
    var name: String
    var metadata: MetricMetadata
    /// Fingerprint of resource, scope and name: the prefix of every series key of the metric.
    var seed: SeriesRefCache.Fingerprint
    /// Whether points are deltas to add up.
    var isDelta: Bool
}

extension OTLPMetricsTranslation {
    /// Field numbers of `Metric.data`.
    enum DataKind: Int {
        case gauge = 5, sum = 7, histogram = 9, exponentialHistogram = 10, summary = 11
    }

    mutating func metric(_ message: ProtoReader, _ resource: inout OTLPResourceContext, _ scope: OTLPScopeContext) throws {
        var scan = message
        var name = ""
        var help = ""
        var unit = ""
        var kind: DataKind?
        // A message field sent twice is merged, as protobuf does: the points of both count.
        var dataMessages: [ProtoReader] = []
        while !scan.isAtEnd {
            let (field, wire) = try scan.readTag()
            switch field {
            case 1:
                try scan.expect(wire, .lengthDelimited, field: field)
                name = try scan.readString()
            case 2:
                try scan.expect(wire, .lengthDelimited, field: field)
                help = try scan.readString()
            case 3:
                try scan.expect(wire, .lengthDelimited, field: field)
                unit = try scan.readString()
            case 5, 7, 9, 10, 11:
                try scan.expect(wire, .lengthDelimited, field: field)
                let newKind = DataKind(rawValue: field)
                if newKind != kind { dataMessages.removeAll() }
                kind = newKind
                dataMessages.append(try scan.readMessage())
            default:
                try scan.skip(wire)
            }
        }
        // A metric without data (an empty oneof) has nothing to store.
        guard let kind else { return }
        var temporality: UInt64 = 0
        var monotonic = false
        var points: [ProtoReader] = []
        for message in dataMessages {
            var data = message
            while !data.isAtEnd {
                let (field, wire) = try data.readTag()
                switch field {
                case 1:
                    try data.expect(wire, .lengthDelimited, field: field)
                    points.append(try data.readMessage())
                case 2 where kind != .gauge && kind != .summary:
                    try data.expect(wire, .varint, field: field)
                    temporality = try data.readVarint()
                case 3 where kind == .sum:
                    try data.expect(wire, .varint, field: field)
                    monotonic = try data.readVarint() != 0
                default:
                    try data.skip(wire)
                }
            }
        }
        result.dataPoints += points.count
        guard result.dataPoints <= limits.dataPointLimit else {
            throw IngestError(code: .tooLarge, message: "more than \(limits.dataPointLimit) data points in one request")
        }
        if let problem = metricProblem(name: name, kind: kind, temporality: temporality) {
            for _ in points { result.reject(problem) }
            return
        }
        let namerKind: OTLPNamer.MetricKind
        let type: MetricType
        switch kind {
        case .gauge: (namerKind, type) = (.gauge, .gauge)
        case .sum: (namerKind, type) = monotonic ? (.monotonicCounter, .counter) : (.nonMonotonicCounter, .gauge)
        case .histogram, .exponentialHistogram: (namerKind, type) = (.histogram, .histogram)
        case .summary: (namerKind, type) = (.summary, .summary)
        }
        guard let promName = namer.metricName(name, unit: unit, kind: namerKind) else {
            for _ in points { result.reject("metric name \"\(name)\" has no valid characters") }
            return
        }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: resource.key)
        scratch.append(0xFF)
        scratch.append(contentsOf: scope.key)
        scratch.append(0xFF)
        scratch.append(contentsOf: promName.utf8)
        scratch.append(0xFF)
        scratch.append(UInt8(kind.rawValue))
        let seed = scratch.withUnsafeBytes { SeriesRefCache.fingerprint($0) }
        var context = OTLPMetricContext(
            name: promName, metadata: MetricMetadata(type: type, unit: namer.metadataUnit(unit), help: help),
            seed: seed, isDelta: temporality == 1)
        for point in points {
            switch kind {
            case .gauge: try numberPoint(point, &context, &resource, scope, isSum: false)
            case .sum: try numberPoint(point, &context, &resource, scope, isSum: true)
            case .histogram: try histogramPoint(point, &context, &resource, scope)
            case .exponentialHistogram: try exponentialHistogramPoint(point, &context, &resource, scope)
            case .summary: try summaryPoint(point, &context, &resource, scope)
            }
        }
    }

    /// Why none of a metric's points can be stored, if so.
    private func metricProblem(name: String, kind: DataKind, temporality: UInt64) -> String? {
        if name.isEmpty { return "metric without a name" }
        switch kind {
        case .sum, .histogram, .exponentialHistogram:
            switch temporality {
            case 2: return nil
            case 1:
                return options.convertDeltaToCumulative
                    ? nil : "metric \"\(name)\" has delta temporality, which otlp.convert_delta_to_cumulative turns off"
            default: return "metric \"\(name)\" has no aggregation temporality"
            }
        case .gauge, .summary:
            return nil
        }
    }
}
