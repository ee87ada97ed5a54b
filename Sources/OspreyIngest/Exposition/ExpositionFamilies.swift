import OspreyModel

/// How sample names map to families: which suffixes each type's samples carry.
enum ExpositionFamilies {
    /// Every suffix a sample name can carry in OpenMetrics 1.0.
    static let openMetricsSuffixes = ["_total", "_created", "_bucket", "_count", "_sum", "_gcount", "_gsum", "_info"]

    /// The sample-name suffixes OpenMetrics 1.0 allows for a family of `type`.
    static func openMetricsSuffixes(for type: MetricType) -> [String] {
        switch type {
        case .counter: return counterSuffixes
        case .gauge, .stateset, .unknown: return noSuffix
        case .histogram: return histogramSuffixes
        case .gaugehistogram: return gaugeHistogramSuffixes
        case .summary: return summarySuffixes
        case .info: return infoSuffixes
        }
    }

    /// The sample-name suffixes of the Prometheus text format 0.0.4 for a family of `type`.
    static func textSuffixes(for type: MetricType) -> [String] {
        switch type {
        case .histogram: return textHistogramSuffixes
        case .summary: return textSummarySuffixes
        default: return noSuffix
        }
    }

    // Constants, so that the per-sample lookups do not allocate.
    private static let noSuffix = [""]
    private static let counterSuffixes = ["_total", "_created"]
    private static let histogramSuffixes = ["_bucket", "_count", "_sum", "_created"]
    private static let gaugeHistogramSuffixes = ["_bucket", "_gcount", "_gsum"]
    private static let summarySuffixes = ["", "_count", "_sum", "_created"]
    private static let infoSuffixes = ["_info"]
    private static let textHistogramSuffixes = ["_bucket", "_count", "_sum"]
    private static let textSummarySuffixes = ["", "_count", "_sum"]

    /// The type name in a TYPE line, or nil. The Prometheus text format's `untyped` is
    /// `.unknown`; OpenMetrics spells it `unknown`.
    static func type(named buf: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, openMetrics: Bool) -> MetricType? {
        let text = String(decoding: UnsafeBufferPointer(rebasing: buf[range]), as: UTF8.self)
        if openMetrics { return MetricType(rawValue: text) }
        switch text {
        case "counter": return .counter
        case "gauge": return .gauge
        case "histogram": return .histogram
        case "summary": return .summary
        case "untyped": return .unknown
        default: return nil
        }
    }
}

/// Maps sample names to families through the TYPE lines seen so far, without checking family
/// structure: a name that is itself a typed family is that family; a name ending in a suffix
/// its typed stem allows belongs to the stem; anything else is its own untyped family.
struct ExpositionFamilyResolver {
    private var types: [String: MetricType] = [:]
    private var resolved: [String: (family: String, type: MetricType, suffix: String)] = [:]
    private let openMetrics: Bool

    init(openMetrics: Bool) {
        self.openMetrics = openMetrics
    }

    mutating func record(family: String, type: MetricType) {
        types[family] = type
        resolved.removeAll(keepingCapacity: true)
    }

    mutating func resolve(_ name: String) -> (family: String, type: MetricType, suffix: String) {
        if let hit = resolved[name] { return hit }
        var result = (family: name, type: types[name] ?? MetricType.unknown, suffix: "")
        if types[name] == nil {
            for suffix in ExpositionFamilies.openMetricsSuffixes where name.hasSuffix(suffix) {
                let stem = String(name.utf8.dropLast(suffix.utf8.count)) ?? ""
                guard let type = types[stem] else { continue }
                let allowed = openMetrics ? ExpositionFamilies.openMetricsSuffixes(for: type) : ExpositionFamilies.textSuffixes(for: type)
                if allowed.contains(suffix) {
                    result = (stem, type, suffix)
                    break
                }
            }
        }
        if resolved.count < 10_000 { resolved[name] = result }
        return result
    }
}
