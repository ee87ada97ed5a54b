import OspreyModel

/// A streaming parser of the OpenMetrics 1.0 text format
/// (https://github.com/prometheus/OpenMetrics/blob/main/specification/OpenMetrics.md,
/// content type `application/openmetrics-text; version=1.0.0`).
///
/// Feed input with ``init(_:isComplete:options:)`` and ``append(_:isComplete:)``, then call
/// ``next()`` until it returns nil. Syntax is always checked as the spec's ABNF and
/// Prometheus' `openmetricsparse.go` do; family structure only when
/// ``Options/validatesFamilies`` is set. See `docs/formats/exposition.md`.
///
/// Not thread-safe; a value type that one task owns. Memory: the unconsumed input (about one
/// chunk) plus small caches.
package struct OpenMetricsParser {
    /// How strict the parser is.
    package struct Options: Sendable {
        /// Whether to check family structure (metadata placement, no interleaving, sample
        /// names and labels per type, buckets, exemplar placement). Off for backfill, which is
        /// as lenient as promtool.
        package var validatesFamilies: Bool = true

        /// Creates options.
        package init(validatesFamilies: Bool = true) {
            self.validatesFamilies = validatesFamilies
        }
    }

    var input: ExpositionInput
    let options: Options
    var cache = ExpositionStringCache()
    var scratch = ExpositionLabelScratch()
    var exemplarScratch = ExpositionLabelScratch()
    var validator = OpenMetricsFamilyValidator()
    var resolver = ExpositionFamilyResolver(openMetrics: true)
    var sawEOF = false
    var current = ExpositionCurrentSample()

    /// The 1-based line of the last returned entry (0 before the first).
    package private(set) var lineNumber = 0

    /// True once `# EOF` was read and nothing but its optional line feed follows.
    package var isFinished: Bool { sawEOF && input.isExhausted }

    /// Creates a parser over the first chunk of input; `isComplete` says whether it is all.
    /// The parser keeps its own copy of the bytes.
    package init(_ bytes: [UInt8], isComplete: Bool, options: Options = .init()) {
        input = ExpositionInput(bytes, isComplete: isComplete)
        self.options = options
    }

    /// Adds the next chunk of input. A line may be split across chunks anywhere. Consumed
    /// bytes are discarded.
    package mutating func append(_ chunk: [UInt8], isComplete: Bool) {
        input.append(chunk, isComplete: isComplete)
    }

    /// The next entry, or nil when more input is needed (input not complete yet) or the
    /// exposition is finished (``isFinished``).
    ///
    /// - Throws: ``ExpositionParseError`` naming the offending line, e.g. for bad syntax, a
    ///   missing `# EOF`, data after `# EOF`, or (validating) a family-structure violation.
    ///   After an error the parser's state is unspecified; discard it.
    package mutating func next() throws(ExpositionParseError) -> ExpositionEntry? {
        while true {
            if sawEOF {
                guard input.isExhausted else {
                    guard let line = input.nextLine() else {
                        throw ExpositionParseError(line: input.lineCount + 1, message: "unexpected data after # EOF", lineText: "")
                    }
                    throw error("unexpected data after # EOF", line: line.range)
                }
                return nil
            }
            guard let (range, hasLineFeed) = input.nextLine() else {
                if input.isComplete {
                    throw ExpositionParseError(line: input.lineCount + 1, message: "unexpected end of input: OpenMetrics data must end with \"# EOF\"", lineText: "")
                }
                return nil
            }
            let bytes = input.bytes
            let lineNo = input.lineCount
            let entry = try bytes.withUnsafeBufferPointer { buf throws(ExpositionParseError) in
                try parseLine(LineContext(buf: buf, range: range, number: lineNo), hasLineFeed: hasLineFeed)
            }
            if let entry {
                lineNumber = lineNo
                return entry
            }
        }
    }

    /// As ``next()``, but the series of a sample line (metric name and labels) is only
    /// delimited, not parsed or checked: see ``ExpositionDeferredEntry``. A caller that does not
    /// recognise ``withCurrentSeriesBytes(_:)`` must call ``currentSeries()``, which parses and
    /// checks them; one that skips it must have had ``currentSeries()`` accept the very same
    /// bytes before. Errors are those ``next()`` reports for the same input. With
    /// ``Options/validatesFamilies`` every sample is still parsed in full (family checks need
    /// its labels); the caller's lookup still saves the work of building its series.
    package mutating func nextDeferringSeries() throws(ExpositionParseError) -> ExpositionDeferredEntry? {
        while true {
            if sawEOF || input.isComplete && input.isExhausted {
                // ``next()`` reports what follows `# EOF`, or the missing `# EOF`.
                guard let entry = try next() else { return nil }
                return .metadata(entry)
            }
            guard let (range, hasLineFeed) = input.nextLine() else { return nil }
            let bytes = input.bytes
            let lineNo = input.lineCount
            let buf0 = range.lowerBound
            let isSample = bytes.withUnsafeBufferPointer { buf in
                !range.isEmpty && hasLineFeed && buf[buf0] != ExpositionSyntax.hash && buf[range.upperBound - 1] != ExpositionSyntax.carriageReturn
            }
            if !isSample {
                let entry = try bytes.withUnsafeBufferPointer { buf throws(ExpositionParseError) in
                    try parseLine(LineContext(buf: buf, range: range, number: lineNo), hasLineFeed: hasLineFeed)
                }
                guard let entry else { continue }
                lineNumber = lineNo
                guard case .sample(let sample) = entry else { return .metadata(entry) }
                return .sample(value: sample.value, timestampMs: sample.timestampMs, exemplar: sample.exemplar)
            }
            let sample = try bytes.withUnsafeBufferPointer { buf throws(ExpositionParseError) in
                try parseSampleDeferringSeries(LineContext(buf: buf, range: range, number: lineNo))
            }
            lineNumber = lineNo
            return sample
        }
    }

    /// Calls `body` with the series bytes of the sample line ``nextDeferringSeries()`` returned
    /// last: from the metric name through the label set's `}`. Empty when they must not be
    /// cached (``currentSeries()`` is then always needed).
    package func withCurrentSeriesBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        current.withSeriesBytes(in: input, body)
    }

    /// The sample line ``nextDeferringSeries()`` returned last, parsed and checked in full.
    package mutating func currentSeries() throws(ExpositionParseError) -> ExpositionSample {
        if let parsed = current.parsed { return parsed }
        let sample = current
        return try input.bytes.withUnsafeBufferPointer { buf throws(ExpositionParseError) in
            try parseSample(LineContext(buf: buf, range: sample.line, number: sample.number))
        }
    }

    /// The family of the sample line ``nextDeferringSeries()`` returned last, by the TYPE lines
    /// read so far.
    package mutating func currentFamily() -> String {
        current.family(in: input, cache: &cache, resolver: &resolver)
    }

    private mutating func parseSampleDeferringSeries(_ line: LineContext) throws(ExpositionParseError) -> ExpositionDeferredEntry {
        let buf = line.buf
        let start = line.range.lowerBound
        let end = line.range.upperBound
        let nameEnd = ExpositionSyntax.metricNameEnd(buf, from: start, to: end)
        let seriesEnd = ExpositionSyntax.seriesEnd(buf, from: start, to: end, allowsBlanks: false)
        if !options.validatesFamilies, let nameEnd, let seriesEnd,
            let (value, timestampMs, exemplar) = try? parseSampleTail(line, from: seriesEnd)
        {
            current = ExpositionCurrentSample(line: line.range, number: line.number, start: start, nameEnd: nameEnd, seriesEnd: seriesEnd)
            return .sample(value: value, timestampMs: timestampMs, exemplar: exemplar)
        }
        // Family checks need the labels, and a line that does not delimit cleanly gets the full
        // parse's error.
        let sample = try parseSample(line)
        current = ExpositionCurrentSample(
            line: line.range, number: line.number, start: start, nameEnd: nameEnd ?? start, seriesEnd: seriesEnd ?? start, parsed: sample)
        return .sample(value: sample.value, timestampMs: sample.timestampMs, exemplar: sample.exemplar)
    }

    private func error(_ message: String, line range: Range<Int>) -> ExpositionParseError {
        input.bytes.withUnsafeBufferPointer { buf in
            ExpositionParseError(line: input.lineCount, message: message, lineBytes: UnsafeBufferPointer(rebasing: buf[range]))
        }
    }

    private mutating func parseLine(_ line: LineContext, hasLineFeed: Bool) throws(ExpositionParseError) -> ExpositionEntry? {
        let buf = line.buf
        let range = line.range
        guard !range.isEmpty else { throw line.error("empty line; OpenMetrics does not allow blank lines") }
        if buf[range.upperBound - 1] == ExpositionSyntax.carriageReturn {
            throw line.error("line ends with a carriage return; lines must end with \\n only")
        }
        if ExpositionSyntax.matches(buf, range, "# EOF") {
            if options.validatesFamilies {
                do { try validator.finish() } catch { throw line.error(error.message) }
            }
            sawEOF = true
            return nil
        }
        guard hasLineFeed else {
            throw line.error("unexpected end of input: the last line has no line feed and OpenMetrics data must end with \"# EOF\"")
        }
        if buf[range.lowerBound] == ExpositionSyntax.hash { return try parseMetadata(line) }
        return .sample(try parseSample(line))
    }

    private mutating func parseMetadata(_ line: LineContext) throws(ExpositionParseError) -> ExpositionEntry {
        let buf = line.buf
        let start = line.range.lowerBound
        let end = line.range.upperBound
        guard end - start >= 7, buf[start + 1] == ExpositionSyntax.space, buf[start + 6] == ExpositionSyntax.space else {
            throw line.error("unexpected comment; OpenMetrics allows only # HELP, # TYPE, # UNIT and # EOF lines")
        }
        let keyword = start + 2..<start + 6
        let kind: OpenMetricsFamilyValidator.MetadataKind
        if ExpositionSyntax.matches(buf, keyword, "TYPE") {
            kind = .type
        } else if ExpositionSyntax.matches(buf, keyword, "HELP") {
            kind = .help
        } else if ExpositionSyntax.matches(buf, keyword, "UNIT") {
            kind = .unit
        } else {
            throw line.error("unexpected comment; OpenMetrics allows only # HELP, # TYPE, # UNIT and # EOF lines")
        }
        guard let nameEnd = ExpositionSyntax.metricNameEnd(buf, from: start + 7, to: end) else {
            throw line.error("invalid metric name in # \(kind.rawValue) line")
        }
        guard nameEnd < end else { throw line.error("expected a space and text after the metric name in # \(kind.rawValue) line") }
        guard buf[nameEnd] == ExpositionSyntax.space else { throw line.error("invalid character in metric name of # \(kind.rawValue) line") }
        let family = cache.string(buf, start + 7..<nameEnd) ?? ""
        let text = nameEnd + 1..<end
        switch kind {
        case .type:
            guard let type = ExpositionFamilies.type(named: buf, text, openMetrics: true) else {
                throw line.error("invalid metric type \"\(String(decoding: UnsafeBufferPointer(rebasing: buf[text]), as: UTF8.self))\"")
            }
            try checkMetadata(line, .type, family: family, type: type)
            resolver.record(family: family, type: type)
            return .type(family: family, type: type)
        case .help:
            guard let help = ExpositionSyntax.unescaped(buf, text, unescapesQuote: true) else { throw line.error("help text is not valid UTF-8") }
            try checkMetadata(line, .help, family: family)
            return .help(family: family, text: help)
        case .unit:
            for i in text where !ExpositionSyntax.isMetricNameChar(buf[i]) {
                throw line.error("invalid character in unit; units use [a-zA-Z0-9_:]")
            }
            let unit = String(decoding: UnsafeBufferPointer(rebasing: buf[text]), as: UTF8.self)
            if !unit.isEmpty && !family.hasSuffix("_" + unit) {
                throw line.error("unit \"\(unit)\" is not a suffix of the family name \"\(family)\" (it must end in \"_\(unit)\")")
            }
            try checkMetadata(line, .unit, family: family, unit: unit)
            return .unit(family: family, unit: unit)
        }
    }

    private mutating func checkMetadata(
        _ line: LineContext, _ kind: OpenMetricsFamilyValidator.MetadataKind, family: String, type: MetricType? = nil, unit: String? = nil
    ) throws(ExpositionParseError) {
        guard options.validatesFamilies else { return }
        do { try validator.metadata(kind, family: family, type: type, unit: unit) } catch { throw line.error(error.message) }
    }
}

/// One line of input being parsed, for error reporting.
struct LineContext {
    var buf: UnsafeBufferPointer<UInt8>
    var range: Range<Int>
    var number: Int

    func error(_ message: String) -> ExpositionParseError {
        ExpositionParseError(line: number, message: message, lineBytes: UnsafeBufferPointer(rebasing: buf[range]))
    }
}
