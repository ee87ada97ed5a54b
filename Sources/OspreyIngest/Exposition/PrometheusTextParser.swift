import OspreyModel

/// A streaming parser of the Prometheus text exposition format 0.0.4
/// (https://prometheus.io/docs/instrumenting/exposition_formats/, content type
/// `text/plain; version=0.0.4`), accepting what Prometheus' `promparse.go` accepts with the
/// few deviations listed in `docs/formats/exposition.md`.
///
/// `# HELP` and `# TYPE` lines become entries, other comments and blank lines are skipped.
/// Samples are assigned to families through TYPE lines (`foo_bucket`, `foo_sum`, `foo_count`
/// of a histogram `foo`). Not thread-safe; a value type that one task owns.
package struct PrometheusTextParser {
    var input: ExpositionInput
    var cache = ExpositionStringCache()
    var scratch = ExpositionLabelScratch()
    var resolver = ExpositionFamilyResolver(openMetrics: false)
    var current = ExpositionCurrentSample()

    /// The 1-based line of the last returned entry (0 before the first).
    package private(set) var lineNumber = 0

    /// Creates a parser over the first chunk of input; `isComplete` says whether it is all.
    package init(_ bytes: [UInt8], isComplete: Bool) {
        input = ExpositionInput(bytes, isComplete: isComplete)
    }

    /// Adds the next chunk of input. A line may be split across chunks anywhere.
    package mutating func append(_ chunk: [UInt8], isComplete: Bool) {
        input.append(chunk, isComplete: isComplete)
    }

    /// The next entry, or nil when more input is needed or the input is finished.
    ///
    /// - Throws: ``ExpositionParseError`` naming the offending line. After an error the
    ///   parser's state is unspecified; discard it.
    package mutating func next() throws(ExpositionParseError) -> ExpositionEntry? {
        try nextLine { parser, line, hasLineFeed throws(ExpositionParseError) in try parser.parseLine(line, hasLineFeed: hasLineFeed) }
    }

    /// Feeds lines to `parse` until it returns an entry (blank and comment lines give none).
    private mutating func nextLine<Entry>(
        _ parse: (inout PrometheusTextParser, LineContext, Bool) throws(ExpositionParseError) -> Entry?
    ) throws(ExpositionParseError) -> Entry? {
        while let (range, hasLineFeed) = input.nextLine() {
            let bytes = input.bytes
            let lineNo = input.lineCount
            let entry = try bytes.withUnsafeBufferPointer { buf throws(ExpositionParseError) in
                try parse(&self, LineContext(buf: buf, range: range, number: lineNo), hasLineFeed)
            }
            if let entry {
                lineNumber = lineNo
                return entry
            }
        }
        return nil
    }

    /// As ``next()``, but the series of a sample line (metric name and labels) is only
    /// delimited, not parsed or checked: see ``ExpositionDeferredEntry``. A caller that does not
    /// recognise ``withCurrentSeriesBytes(_:)`` must call ``currentSeries()``, which parses and
    /// checks them; one that skips it must have had ``currentSeries()`` accept the very same
    /// bytes before. Errors are those ``next()`` reports for the same input.
    package mutating func nextDeferringSeries() throws(ExpositionParseError) -> ExpositionDeferredEntry? {
        try nextLine { parser, line, hasLineFeed throws(ExpositionParseError) in
            try parser.parseLineDeferringSeries(line, hasLineFeed: hasLineFeed)
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
            try parseSample(LineContext(buf: buf, range: sample.line, number: sample.number), from: sample.start)
        }
    }

    /// The family of the sample line ``nextDeferringSeries()`` returned last, by the TYPE lines
    /// read so far.
    package mutating func currentFamily() -> String {
        current.family(in: input, cache: &cache, resolver: &resolver)
    }

    private mutating func parseLineDeferringSeries(_ line: LineContext, hasLineFeed: Bool) throws(ExpositionParseError) -> ExpositionDeferredEntry? {
        let buf = line.buf
        let end = line.range.upperBound
        let start = skipBlanks(buf, from: line.range.lowerBound, to: end)
        guard start < end else { return nil }
        if buf[start] == ExpositionSyntax.hash { return try parseComment(line, from: start + 1).map { .metadata($0) } }
        guard hasLineFeed else { throw line.error("the last line must end with a line feed") }
        if buf[end - 1] == ExpositionSyntax.carriageReturn {
            throw line.error("line ends with a carriage return; lines must end with \\n only")
        }
        if let nameEnd = ExpositionSyntax.metricNameEnd(buf, from: start, to: end),
            let seriesEnd = ExpositionSyntax.seriesEnd(buf, from: start, to: end, allowsBlanks: true),
            seriesEnd > nameEnd || (nameEnd < end && isBlank(buf[nameEnd])),
            let (value, timestampMs) = Self.valueAndTimestamp(buf, from: skipBlanks(buf, from: seriesEnd, to: end), to: end)
        {
            current = ExpositionCurrentSample(line: line.range, number: line.number, start: start, nameEnd: nameEnd, seriesEnd: seriesEnd)
            return .sample(value: value, timestampMs: timestampMs, exemplar: nil)
        }
        // Something is off: the full parse names it (and, should it accept the line after all,
        // gives the sample, whose bytes are then not cached).
        let sample = try parseSample(line, from: start)
        current = ExpositionCurrentSample(line: line.range, number: line.number, start: start, nameEnd: start, seriesEnd: start, parsed: sample)
        return .sample(value: sample.value, timestampMs: sample.timestampMs, exemplar: nil)
    }

    /// `value [timestamp_ms]` up to the end of the line, as ``parseSample(_:from:)`` reads them;
    /// nil when they do not parse.
    private static func valueAndTimestamp(_ buf: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> (Double, Int64?)? {
        var valueEnd = start
        while valueEnd < end && !isBlank(buf[valueEnd]) && buf[valueEnd] != ExpositionSyntax.braceOpen { valueEnd += 1 }
        guard let value = ExpositionSyntax.parseFloat(buf, start..<valueEnd) else { return nil }
        let i = skipBlanks(buf, from: valueEnd, to: end)
        guard i < end else { return (value, nil) }
        var tsEnd = i
        while tsEnd < end && !isBlank(buf[tsEnd]) { tsEnd += 1 }
        guard let ms = ExpositionSyntax.parseDigits(buf, i..<tsEnd), skipBlanks(buf, from: tsEnd, to: end) == end else { return nil }
        return (value, ms)
    }

    private mutating func parseLine(_ line: LineContext, hasLineFeed: Bool) throws(ExpositionParseError) -> ExpositionEntry? {
        let buf = line.buf
        let end = line.range.upperBound
        let start = skipBlanks(buf, from: line.range.lowerBound, to: end)
        guard start < end else { return nil }
        if buf[start] == ExpositionSyntax.hash { return try parseComment(line, from: start + 1) }
        guard hasLineFeed else { throw line.error("the last line must end with a line feed") }
        if buf[end - 1] == ExpositionSyntax.carriageReturn {
            throw line.error("line ends with a carriage return; lines must end with \\n only")
        }
        return .sample(try parseSample(line, from: start))
    }

    /// `# HELP name text`, `# TYPE name type`, or any other comment (skipped).
    private mutating func parseComment(_ line: LineContext, from start: Int) throws(ExpositionParseError) -> ExpositionEntry? {
        let buf = line.buf
        let end = line.range.upperBound
        let keywordStart = skipBlanks(buf, from: start, to: end)
        guard keywordStart > start, keywordStart + 4 < end, isBlank(buf[keywordStart + 4]) else { return nil }
        let isHelp = ExpositionSyntax.matches(buf, keywordStart..<keywordStart + 4, "HELP")
        guard isHelp || ExpositionSyntax.matches(buf, keywordStart..<keywordStart + 4, "TYPE") else { return nil }
        let keyword = isHelp ? "HELP" : "TYPE"
        let nameStart = skipBlanks(buf, from: keywordStart + 4, to: end)
        guard let nameEnd = ExpositionSyntax.metricNameEnd(buf, from: nameStart, to: end) else {
            throw line.error("invalid metric name in # \(keyword) line")
        }
        guard nameEnd == end || isBlank(buf[nameEnd]) else { throw line.error("invalid character in metric name of # \(keyword) line") }
        let family = cache.string(buf, nameStart..<nameEnd) ?? ""
        // As promparse: the text starts after exactly one blank following the name.
        let textRange = Swift.min(nameEnd + 1, end)..<end
        if isHelp {
            guard let help = ExpositionSyntax.unescaped(buf, textRange, unescapesQuote: false) else { throw line.error("help text is not valid UTF-8") }
            return .help(family: family, text: help)
        }
        guard let type = ExpositionFamilies.type(named: buf, textRange, openMetrics: false) else {
            throw line.error("invalid metric type \"\(excerpt(buf, textRange))\"; expected counter, gauge, histogram, summary or untyped")
        }
        resolver.record(family: family, type: type)
        return .type(family: family, type: type)
    }

    /// `name [{labels}] value [timestamp_ms]`, with blanks allowed between the parts.
    private mutating func parseSample(_ line: LineContext, from start: Int) throws(ExpositionParseError) -> ExpositionSample {
        let buf = line.buf
        let end = line.range.upperBound
        guard let nameEnd = ExpositionSyntax.metricNameEnd(buf, from: start, to: end) else {
            throw line.error("expected a metric name at the start of the line")
        }
        let name = cache.string(buf, start..<nameEnd) ?? ""
        scratch.reset()
        scratch.append(name: Labels.metricNameLabel, value: name)
        var i = nameEnd
        guard i < end, isBlank(buf[i]) || buf[i] == ExpositionSyntax.braceOpen else {
            throw line.error(i < end ? "invalid character \(quoted(buf[i])) in metric name" : "expected a value after the metric name")
        }
        i = skipBlanks(buf, from: i, to: end)
        if i < end && buf[i] == ExpositionSyntax.braceOpen {
            i = try parseLabels(line, from: i + 1)
            i = skipBlanks(buf, from: i, to: end)
        }
        var valueEnd = i
        while valueEnd < end && !isBlank(buf[valueEnd]) && buf[valueEnd] != ExpositionSyntax.braceOpen { valueEnd += 1 }
        guard let value = ExpositionSyntax.parseFloat(buf, i..<valueEnd) else {
            throw line.error(valueEnd == i ? "expected a value" : "invalid value \"\(excerpt(buf, i..<valueEnd))\"")
        }
        i = skipBlanks(buf, from: valueEnd, to: end)
        var timestampMs: Int64?
        if i < end {
            var tsEnd = i
            while tsEnd < end && !isBlank(buf[tsEnd]) { tsEnd += 1 }
            guard let ms = ExpositionSyntax.parseDigits(buf, i..<tsEnd) else {
                throw line.error("invalid timestamp \"\(excerpt(buf, i..<tsEnd))\"; expected integer milliseconds")
            }
            timestampMs = ms
            guard skipBlanks(buf, from: tsEnd, to: end) == end else { throw line.error("expected end of line after the timestamp") }
        }
        let labels: Labels
        switch scratch.build() {
        case .success(let built): labels = built
        case .failure(let duplicate): throw line.error("duplicate label name \"\(duplicate.name)\"")
        }
        let family = resolver.resolve(name)
        return ExpositionSample(labels: labels, value: value, timestampMs: timestampMs, family: family.family, type: family.type, suffix: family.suffix)
    }

    /// Parses labels after `{` up to and including `}`, returning the index after it. As
    /// promparse: blanks around every token, an optional trailing comma.
    private mutating func parseLabels(_ line: LineContext, from start: Int) throws(ExpositionParseError) -> Int {
        let buf = line.buf
        let end = line.range.upperBound
        var i = skipBlanks(buf, from: start, to: end)
        while true {
            guard i < end else { throw line.error("unterminated label set") }
            if buf[i] == ExpositionSyntax.braceClose { return i + 1 }
            guard let nameEnd = ExpositionSyntax.labelNameEnd(buf, from: i, to: end) else {
                throw line.error("invalid label name starting at \(quoted(buf[i]))")
            }
            let labelName = cache.string(buf, i..<nameEnd) ?? ""
            i = skipBlanks(buf, from: nameEnd, to: end)
            guard i < end, buf[i] == ExpositionSyntax.equals else { throw line.error("expected \"=\" after label name \"\(labelName)\"") }
            i = skipBlanks(buf, from: i + 1, to: end)
            guard i < end, buf[i] == ExpositionSyntax.quote else { throw line.error("expected a quoted label value for \"\(labelName)\"") }
            guard let (close, escaped) = ExpositionSyntax.closingQuote(buf, from: i + 1, to: end) else {
                throw line.error("unterminated label value")
            }
            let valueRange = i + 1..<close
            let value = escaped ? ExpositionSyntax.unescaped(buf, valueRange, unescapesQuote: true) : cache.string(buf, valueRange)
            guard let value else { throw line.error("label value of \"\(labelName)\" is not valid UTF-8") }
            scratch.append(name: labelName, value: value)
            i = skipBlanks(buf, from: close + 1, to: end)
            // As promparse, the comma between labels may be missing.
            if i < end && buf[i] == ExpositionSyntax.comma {
                i = skipBlanks(buf, from: i + 1, to: end)
            }
        }
    }
}

@inline(__always) private func isBlank(_ b: UInt8) -> Bool {
    b == ExpositionSyntax.space || b == ExpositionSyntax.tab
}

private func skipBlanks(_ buf: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Int {
    var i = start
    while i < end && isBlank(buf[i]) { i += 1 }
    return i
}
