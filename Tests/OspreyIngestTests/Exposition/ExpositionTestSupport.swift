import OspreyIngest
import OspreyModel

/// Parses a whole OpenMetrics text in one chunk.
func parseOpenMetrics(_ text: String, validatesFamilies: Bool = true) throws(ExpositionParseError) -> [ExpositionEntry] {
    var parser = OpenMetricsParser(Array(text.utf8), isComplete: true, options: .init(validatesFamilies: validatesFamilies))
    var entries: [ExpositionEntry] = []
    while let entry = try parser.next() { entries.append(entry) }
    return entries
}

/// The error an OpenMetrics text raises, or nil if it parses.
func openMetricsError(_ text: String, validatesFamilies: Bool = true) -> ExpositionParseError? {
    do {
        _ = try parseOpenMetrics(text, validatesFamilies: validatesFamilies)
        return nil
    } catch {
        return error
    }
}

/// Parses a whole Prometheus text exposition in one chunk.
func parsePrometheusText(_ text: String) throws(ExpositionParseError) -> [ExpositionEntry] {
    var parser = PrometheusTextParser(Array(text.utf8), isComplete: true)
    var entries: [ExpositionEntry] = []
    while let entry = try parser.next() { entries.append(entry) }
    return entries
}

func prometheusTextError(_ text: String) -> ExpositionParseError? {
    do {
        _ = try parsePrometheusText(text)
        return nil
    } catch {
        return error
    }
}

func samples(_ entries: [ExpositionEntry]) -> [ExpositionSample] {
    entries.compactMap {
        if case .sample(let sample) = $0 { return sample }
        return nil
    }
}

/// A comparable rendering of an entry (NaN-safe: values compare by bit pattern).
func render(_ entry: ExpositionEntry) -> String {
    switch entry {
    case .sample(let s):
        var text = "\(s.labels) \(s.value.bitPattern) \(s.timestampMs.map(String.init) ?? "-") \(s.family)|\(s.type.rawValue)|\(s.suffix)"
        if let e = s.exemplar { text += " # \(e.labels) \(e.value.bitPattern) \(e.timestampMs.map(String.init) ?? "-")" }
        return text
    case .type(let family, let type): return "TYPE \(family) \(type.rawValue)"
    case .help(let family, let text): return "HELP \(family) \(text)"
    case .unit(let family, let unit): return "UNIT \(family) \(unit)"
    }
}
