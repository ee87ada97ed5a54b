/// Builds Prometheus metric and label names from OpenTelemetry ones, as Prometheus'
/// `otlptranslator` does (the OpenTelemetry "Prometheus and OpenMetrics compatibility" spec).
package struct OTLPNamer: Sendable {
    /// What kind of Prometheus metric a name is built for (it picks the suffixes).
    package enum MetricKind: Sendable {
        case gauge, monotonicCounter, nonMonotonicCounter, histogram, summary
    }

    /// The translation in use.
    package let strategy: OTLPTranslationStrategy

    /// A namer for `strategy`.
    package init(strategy: OTLPTranslationStrategy) {
        self.strategy = strategy
    }

    /// The Prometheus name of a metric (before `_bucket`/`_sum`/`_count`, which the caller
    /// adds); nil when nothing is left of it.
    package func metricName(_ name: String, unit: String, kind: MetricKind) -> String? {
        let result: String
        switch strategy {
        case .underscoreEscapingWithSuffixes: result = Self.escapedWithSuffixes(name, unit: unit, kind: kind)
        case .underscoreEscapingWithoutSuffixes: result = Self.escapedWithoutSuffixes(name)
        case .noUTF8EscapingWithSuffixes: result = Self.utf8WithSuffixes(name, unit: unit, kind: kind)
        case .noTranslation: result = name
        }
        if result.isEmpty { return nil }
        if strategy.escapes, result.utf8.allSatisfy({ $0 == UInt8(ascii: "_") }), result != name { return nil }
        return result
    }

    /// The label name of an attribute key; nil when the key is empty or nothing but underscores
    /// is left of it.
    package func labelName(_ key: String) -> String? {
        guard !key.isEmpty else { return nil }
        // UTF-8 strategies keep keys as they are (Prometheus does not check them).
        guard strategy.escapes else { return key }
        let result = Self.escapedLabelName(key)
        if result.utf8.allSatisfy({ $0 == UInt8(ascii: "_") }) { return nil }
        return result
    }

    /// The unit as Prometheus' metadata shows it (`By/s` → `bytes_per_second`, `1` → empty),
    /// always in the escaped form.
    package func metadataUnit(_ unit: String) -> String {
        let (main, per) = Self.unitSuffixes(unit)
        var parts: [String] = []
        if !main.isEmpty { parts.append(main) }
        if !per.isEmpty { parts.append("per_" + per) }
        let joined = Self.cleanUnit(parts.joined(separator: "_"))
        return String(joined.drop { $0 == "_" }.reversed().drop { $0 == "_" }.reversed())
    }

    // MARK: - Rules

    /// Label names: every character outside `[a-zA-Z0-9_]` becomes `_`; a name starting with a
    /// digit gets `key_` in front, one starting with a single `_` gets `key`.
    package static func escapedLabelName(_ key: String) -> String {
        guard !key.isEmpty else { return key }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(key.utf8.count)
        for scalar in key.unicodeScalars {
            if scalar.isASCII, isLegacyLabelCharacter(UInt8(scalar.value)) {
                bytes.append(UInt8(scalar.value))
            } else {
                bytes.append(UInt8(ascii: "_"))
            }
        }
        var result = String(decoding: bytes, as: UTF8.self)
        if let first = bytes.first, isDigit(first) {
            result = "key_" + result
        } else if bytes.first == UInt8(ascii: "_"), bytes.dropFirst().first != UInt8(ascii: "_") || bytes.count == 1 {
            result = "key" + result
        }
        return result
    }

    /// `UnderscoreEscapingWithSuffixes`: the name split into `[a-zA-Z0-9:]` runs, the unit's
    /// words added unless the name has them, `total` for counters and `ratio` for unit-1
    /// gauges moved to the end, joined with `_`; `_` in front of a leading digit.
    static func escapedWithSuffixes(_ name: String, unit: String, kind: MetricKind) -> String {
        var tokens = tokens(name) { !isLegacyMetricCharacter($0) }
        let (main, per) = unitSuffixes(unit)
        var mainSuffix = cleanUnit(main)
        var perSuffix = per.isEmpty ? "" : cleanUnit("per_" + per)
        if tokens.contains(mainSuffix) { mainSuffix = "" }
        if perSuffix == "per_" {
            perSuffix = ""
        } else {
            while perSuffix.hasSuffix("_") { perSuffix.removeLast() }
            if tokens.contains(perSuffix) { perSuffix = "" }
        }
        if !perSuffix.isEmpty {
            while mainSuffix.hasSuffix("_") { mainSuffix.removeLast() }
        }
        if !mainSuffix.isEmpty { tokens.append(mainSuffix) }
        if !perSuffix.isEmpty { tokens.append(perSuffix) }
        if kind == .monotonicCounter {
            tokens.removeAll { $0 == "total" }
            tokens.append("total")
        }
        if unit == "1" && kind == .gauge {
            tokens.removeAll { $0 == "ratio" }
            tokens.append("ratio")
        }
        var result = tokens.joined(separator: "_")
        if let first = result.utf8.first, isDigit(first) { result = "_" + result }
        return result
    }

    /// `UnderscoreEscapingWithoutSuffixes`: runs of characters outside `[a-zA-Z0-9_:]` become
    /// one `_` (underscores are kept), and a leading digit gets `_` in front.
    static func escapedWithoutSuffixes(_ name: String) -> String {
        var result = tokens(name) { !isLegacyMetricCharacter($0) && $0 != UInt8(ascii: "_") }.joined(separator: "_")
        if let first = result.utf8.first, isDigit(first) { result = "_" + result }
        return result
    }

    /// `NoUTF8EscapingWithSuffixes`: the name as it is; unit, per-unit and `_total`/`_ratio`
    /// suffixes added unless the name already ends with them.
    static func utf8WithSuffixes(_ name: String, unit: String, kind: MetricKind) -> String {
        var result = name
        var trailing: [String] = []
        if unit == "1" && kind == .gauge {
            result = trimSuffixAndDelimiter(result, "ratio")
            trailing.append("_ratio")
        }
        if kind == .monotonicCounter {
            result = trimSuffixAndDelimiter(result, "total")
            trailing.append("_total")
        }
        let (main, per) = unitSuffixes(unit)
        if !per.isEmpty {
            let perSuffix = "per_" + per
            result = trimSuffixAndDelimiter(result, perSuffix)
            trailing.append("_" + perSuffix)
        }
        if !main.isEmpty && !result.hasSuffix(main) { result += "_" + main }
        // Go's deferred appends run last-registered first.
        for suffix in trailing.reversed() { result += suffix }
        return result
    }

    /// `name` without `suffix` and the one character before it, when it ends with them.
    private static func trimSuffixAndDelimiter(_ name: String, _ suffix: String) -> String {
        let nameBytes = Array(name.utf8)
        let suffixBytes = Array(suffix.utf8)
        guard nameBytes.count > suffixBytes.count + 1, nameBytes.suffix(suffixBytes.count).elementsEqual(suffixBytes) else { return name }
        return String(decoding: nameBytes.dropLast(suffixBytes.count + 1), as: UTF8.self)
    }

    /// The non-empty runs of `name` between characters for which `isSeparator` holds (any
    /// non-ASCII character is a separator).
    static func tokens(_ name: String, isSeparator: (UInt8) -> Bool) -> [String] {
        var tokens: [String] = []
        var current: [UInt8] = []
        for scalar in name.unicodeScalars {
            if scalar.isASCII, !isSeparator(UInt8(scalar.value)) {
                current.append(UInt8(scalar.value))
            } else if !current.isEmpty {
                tokens.append(String(decoding: current, as: UTF8.self))
                current.removeAll(keepingCapacity: true)
            }
        }
        if !current.isEmpty { tokens.append(String(decoding: current, as: UTF8.self)) }
        return tokens
    }

    /// The main and per-unit suffix words of an OpenTelemetry (UCUM) unit: `By/s` → (`bytes`,
    /// `second`); annotations in braces and `1` give none.
    static func unitSuffixes(_ unit: String) -> (main: String, per: String) {
        let parts = unit.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        var main = ""
        var per = ""
        if let first = parts.first {
            let trimmed = first.trimmingSpaces
            if !trimmed.isEmpty && !trimmed.contains("{") && !trimmed.contains("}") {
                main = mainUnits[trimmed] ?? trimmed
            }
        }
        if parts.count > 1 {
            let trimmed = parts[1].trimmingSpaces
            if !trimmed.isEmpty && !trimmed.contains("{") && !trimmed.contains("}") {
                per = perUnits[trimmed] ?? trimmed
            }
        }
        return (main, per)
    }

    /// A unit word in `[a-zA-Z0-9_:]`: other characters become `_`, runs of `_` one, and a
    /// leading `_` is dropped (Prometheus' `cleanUpUnit`).
    static func cleanUnit(_ unit: String) -> String {
        var bytes: [UInt8] = []
        for scalar in unit.unicodeScalars {
            let byte: UInt8 = scalar.isASCII && isLegacyMetricCharacter(UInt8(scalar.value)) ? UInt8(scalar.value) : UInt8(ascii: "_")
            if byte == UInt8(ascii: "_") && bytes.last == UInt8(ascii: "_") { continue }
            bytes.append(byte)
        }
        if bytes.first == UInt8(ascii: "_") { bytes.removeFirst() }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    static func isLegacyMetricCharacter(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || isDigit(byte) || byte == UInt8(ascii: ":")
    }

    static func isLegacyLabelCharacter(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || isDigit(byte) || byte == UInt8(ascii: "_")
    }

    /// UCUM units and their Prometheus words.
    static let mainUnits: [String: String] = [
        // Time
        "d": "days", "h": "hours", "min": "minutes", "s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds",
        // Bytes
        "By": "bytes", "KiBy": "kibibytes", "MiBy": "mebibytes", "GiBy": "gibibytes", "TiBy": "tibibytes",
        "KBy": "kilobytes", "MBy": "megabytes", "GBy": "gigabytes", "TBy": "terabytes",
        // SI
        "m": "meters", "V": "volts", "A": "amperes", "J": "joules", "W": "watts", "g": "grams",
        // Misc
        "Cel": "celsius", "Hz": "hertz", "1": "", "%": "percent",
    ]

    /// UCUM units after a `/` and their Prometheus words.
    static let perUnits: [String: String] = [
        "s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week", "mo": "month", "y": "year",
    ]
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
