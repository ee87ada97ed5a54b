import OspreyModel

/// Checks the family structure of an OpenMetrics 1.0 exposition line by line: metadata once
/// per family and before its samples, no interleaved families, sample names and labels as
/// each type requires, histogram buckets, and where exemplars may appear.
///
/// Spec: https://github.com/prometheus/OpenMetrics/blob/main/specification/OpenMetrics.md
struct OpenMetricsFamilyValidator {
    struct Failure: Error {
        var message: String
    }

    enum MetadataKind: String {
        case type = "TYPE", help = "HELP", unit = "UNIT"
    }

    private struct Family {
        var name: String
        var type: MetricType = .unknown
        var unit = ""
        var seen: Set<String> = []
        var hasSamples = false
    }

    /// The buckets of one histogram metric point seen so far.
    private struct BucketRun {
        var labels: Labels
        var timestampMs: Int64?
        var lastLe: Double
        var lastLeText: String
        var lastValue: Double
        var sawInf: Bool
        var line: Int
    }

    /// The OpenMetrics limit on an exemplar's label names and values, in code points.
    static let maxExemplarLabelCodePoints = 128

    private var current: Family?
    private var closed: Set<String> = []
    private var run: BucketRun?

    /// Checks a metadata line for `family`.
    mutating func metadata(_ kind: MetadataKind, family: String, type: MetricType? = nil, unit: String? = nil) throws(Failure) {
        if current?.name != family {
            try checkNotSeenBefore(family)
            try closeCurrent()
            current = Family(name: family)
        }
        guard var familyState = current else { return }
        if familyState.hasSamples {
            throw Failure(message: "# \(kind.rawValue) for family \"\(family)\" comes after its samples; metadata must come first")
        }
        if familyState.seen.contains(kind.rawValue) {
            throw Failure(message: "second # \(kind.rawValue) line for family \"\(family)\"")
        }
        familyState.seen.insert(kind.rawValue)
        if let type { familyState.type = type }
        if let unit { familyState.unit = unit }
        if !familyState.unit.isEmpty && (familyState.type == .stateset || familyState.type == .info) {
            throw Failure(message: "\(familyState.type.rawValue) family \"\(family)\" must not have a unit")
        }
        current = familyState
    }

    /// Checks a sample and returns its family, type and suffix. `labels` are the line's labels
    /// as written (without `__name__`).
    mutating func sample(
        name: String, labels: ExpositionLabelScratch, series: Labels, value: Double, timestampMs: Int64?,
        exemplarLabels: ExpositionLabelScratch?, line: Int
    ) throws(Failure) -> (family: String, type: MetricType, suffix: String) {
        let (family, type, suffix) = try assign(name)
        current?.hasSamples = true
        let isBucket = suffix == "_bucket"
        if !isBucket { try endRun() }
        switch type {
        case .counter where suffix == "_total":
            if value < 0 || value.isNaN { throw Failure(message: "counter \"\(name)\" has value \(value); counters must not be negative or NaN") }
        case .histogram, .gaugehistogram:
            if isBucket {
                try bucket(labels: labels, series: series, value: value, timestampMs: timestampMs, line: line)
            } else if labels.value(of: "le") != nil {
                throw Failure(message: "\(type.rawValue) sample \"\(name)\" must not have an \"le\" label")
            } else if (suffix == "_count" || suffix == "_gcount") && (value < 0 || value.isNaN) {
                throw Failure(message: "\"\(name)\" has value \(value); counts must not be negative or NaN")
            }
        case .summary:
            try summary(name: name, suffix: suffix, labels: labels, value: value)
        case .info where value != 1:
            throw Failure(message: "info sample \"\(name)\" has value \(value); info values must be 1")
        case .stateset:
            guard labels.value(of: family) != nil else {
                throw Failure(message: "stateset sample \"\(name)\" lacks the label \"\(family)\" naming its state")
            }
            if value != 0 && value != 1 { throw Failure(message: "stateset sample \"\(name)\" has value \(value); states must be 0 or 1") }
        default:
            break
        }
        if let exemplarLabels {
            guard (type == .counter && suffix == "_total") || ((type == .histogram || type == .gaugehistogram) && isBucket) else {
                throw Failure(message: "exemplar on \"\(name)\"; exemplars are allowed only on counter _total and histogram _bucket samples")
            }
            let length = exemplarLabels.codePointCount
            if length > Self.maxExemplarLabelCodePoints {
                throw Failure(message: "exemplar labels are \(length) characters long; the limit is \(Self.maxExemplarLabelCodePoints)")
            }
        }
        return (family, type, suffix)
    }

    /// Checks what must hold at `# EOF`.
    mutating func finish() throws(Failure) {
        try closeCurrent()
    }

    private mutating func assign(_ name: String) throws(Failure) -> (String, MetricType, String) {
        if let family = current, name.utf8.starts(with: family.name.utf8) {
            let suffix = String(name.utf8.dropFirst(family.name.utf8.count)) ?? ""
            if ExpositionFamilies.openMetricsSuffixes(for: family.type).contains(suffix) {
                return (family.name, family.type, suffix)
            }
            if family.type != .unknown && (suffix.isEmpty || ExpositionFamilies.openMetricsSuffixes.contains(suffix)) {
                let allowed = ExpositionFamilies.openMetricsSuffixes(for: family.type).map { $0.isEmpty ? "no suffix" : $0 }
                throw Failure(message: "sample \"\(name)\" does not fit \(family.type.rawValue) family \"\(family.name)\", whose samples take \(allowed.joined(separator: ", "))")
            }
        }
        try checkNotSeenBefore(name)
        for suffix in ExpositionFamilies.openMetricsSuffixes where name.hasSuffix(suffix) {
            let stem = String(name.utf8.dropLast(suffix.utf8.count)) ?? ""
            if closed.contains(stem) {
                throw Failure(message: "sample \"\(name)\" belongs to family \"\(stem)\", which ended earlier; families must not be interleaved")
            }
        }
        try closeCurrent()
        current = Family(name: name)
        return (name, .unknown, "")
    }

    private func checkNotSeenBefore(_ family: String) throws(Failure) {
        if closed.contains(family) {
            throw Failure(message: "family \"\(family)\" appears again after other families; families must not be interleaved")
        }
    }

    private mutating func closeCurrent() throws(Failure) {
        try endRun()
        if let family = current { closed.insert(family.name) }
        current = nil
    }

    private mutating func endRun() throws(Failure) {
        guard let finished = run else { return }
        run = nil
        if !finished.sawInf {
            throw Failure(message: "histogram \(Self.withoutLe(finished.labels)) has no le=\"+Inf\" bucket (its buckets end at line \(finished.line))")
        }
    }

    private mutating func bucket(labels: ExpositionLabelScratch, series: Labels, value: Double, timestampMs: Int64?, line: Int) throws(Failure) {
        guard let leText = labels.value(of: "le") else { throw Failure(message: "bucket \"\(series.metricName ?? "")\" lacks the \"le\" label") }
        var text = leText
        let parsed = text.withUTF8 { ExpositionSyntax.parseFloat($0, 0..<$0.count) }
        guard let le = parsed, !le.isNaN else { throw Failure(message: "bucket has le=\"\(leText)\", which is not a number") }
        if value < 0 || value.isNaN { throw Failure(message: "bucket le=\"\(leText)\" has value \(value); bucket values must not be negative or NaN") }
        if var previous = run, previous.timestampMs == timestampMs, Self.sameExceptLe(previous.labels, series) {
            guard le > previous.lastLe else {
                throw Failure(message: "bucket le=\"\(leText)\" follows le=\"\(previous.lastLeText)\"; buckets must be sorted by increasing le")
            }
            guard value >= previous.lastValue else {
                throw Failure(message: "bucket le=\"\(leText)\" has value \(value), less than the \(previous.lastValue) of le=\"\(previous.lastLeText)\"; buckets are cumulative")
            }
            previous.lastLe = le
            previous.lastLeText = leText
            previous.lastValue = value
            previous.sawInf = le == .infinity
            previous.line = line
            previous.labels = series
            run = previous
            return
        }
        try endRun()
        run = BucketRun(labels: series, timestampMs: timestampMs, lastLe: le, lastLeText: leText, lastValue: value, sawInf: le == .infinity, line: line)
    }

    private func summary(name: String, suffix: String, labels: ExpositionLabelScratch, value: Double) throws(Failure) {
        let quantile = labels.value(of: "quantile")
        guard suffix.isEmpty else {
            if quantile != nil { throw Failure(message: "summary sample \"\(name)\" must not have a \"quantile\" label") }
            if (suffix == "_count" || suffix == "_sum") && (value < 0 || value.isNaN) {
                throw Failure(message: "summary \"\(name)\" has value \(value); counts and sums must not be negative or NaN")
            }
            return
        }
        guard let quantileText = quantile else { throw Failure(message: "summary sample \"\(name)\" lacks the \"quantile\" label") }
        var text = quantileText
        let parsed = text.withUTF8 { ExpositionSyntax.parseFloat($0, 0..<$0.count) }
        guard let q = parsed, q >= 0, q <= 1 else {
            throw Failure(message: "quantile=\"\(quantileText)\" is not a number between 0 and 1")
        }
        if value < 0 { throw Failure(message: "quantile value \(value) is negative") }
    }

    private static func sameExceptLe(_ a: Labels, _ b: Labels) -> Bool {
        var i = 0
        var j = 0
        while true {
            while i < a.count && a[i].name == "le" { i += 1 }
            while j < b.count && b[j].name == "le" { j += 1 }
            if i == a.count || j == b.count { return i == a.count && j == b.count }
            if a[i] != b[j] { return false }
            i += 1
            j += 1
        }
    }

    private static func withoutLe(_ labels: Labels) -> Labels {
        Labels(sortedUnchecked: labels.filter { $0.name != "le" })
    }
}
