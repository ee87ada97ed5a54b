import OspreyModel

extension OpenMetricsParser {
    /// Parses `name[{labels}] SP value [SP timestamp] [SP # SP {labels} SP value [SP timestamp]]`.
    mutating func parseSample(_ line: LineContext) throws(ExpositionParseError) -> ExpositionSample {
        let buf = line.buf
        let end = line.range.upperBound
        let start = line.range.lowerBound
        guard let nameEnd = ExpositionSyntax.metricNameEnd(buf, from: start, to: end) else {
            if buf[start] == ExpositionSyntax.braceOpen { throw line.error("expected a metric name; quoted metric names are not supported") }
            throw line.error("expected a metric name at the start of the line")
        }
        let name = cache.string(buf, start..<nameEnd) ?? ""
        scratch.reset()
        scratch.append(name: Labels.metricNameLabel, value: name)
        var i = nameEnd
        if i < end && buf[i] == ExpositionSyntax.braceOpen {
            i = try Self.parseLabels(line, from: i + 1, cache: &cache, into: &scratch)
        }
        let (value, timestampMs, exemplar) = try parseSampleTail(line, from: i)
        let hasExemplar = exemplar != nil
        let labels: Labels
        switch scratch.build() {
        case .success(let built): labels = built
        case .failure(let duplicate): throw line.error("duplicate label name \"\(duplicate.name)\"")
        }
        let assignment: (family: String, type: MetricType, suffix: String)
        if options.validatesFamilies {
            do {
                assignment = try validator.sample(
                    name: name, labels: scratch, series: labels, value: value, timestampMs: timestampMs,
                    exemplarLabels: hasExemplar ? exemplarScratch : nil, line: line.number)
            } catch {
                throw line.error(error.message)
            }
        } else {
            assignment = resolver.resolve(name)
        }
        return ExpositionSample(
            labels: labels, value: value, timestampMs: timestampMs, exemplar: exemplar,
            family: assignment.family, type: assignment.type, suffix: assignment.suffix)
    }

    /// Parses ` value [SP timestamp] [SP # SP {labels} SP value [SP timestamp]]` after the
    /// series, through the end of the line.
    mutating func parseSampleTail(_ line: LineContext, from start: Int) throws(ExpositionParseError) -> (Double, Int64?, ExpositionExemplar?) {
        let buf = line.buf
        let end = line.range.upperBound
        var i = start
        guard i < end else { throw line.error("expected a space and a value after the metric name") }
        guard buf[i] == ExpositionSyntax.space else { throw line.error("invalid character \(quoted(buf[i])) after the metric name or labels") }
        let valueEnd = tokenEnd(buf, from: i + 1, to: end)
        guard let value = ExpositionSyntax.parseFloat(buf, i + 1..<valueEnd) else {
            throw line.error(valueEnd == i + 1 ? "expected a value" : "invalid value \"\(excerpt(buf, i + 1..<valueEnd))\"")
        }
        i = valueEnd
        var timestampMs: Int64?
        if i < end && i + 1 < end && buf[i + 1] != ExpositionSyntax.hash {
            let tsEnd = tokenEnd(buf, from: i + 1, to: end)
            timestampMs = try timestamp(line, i + 1..<tsEnd, what: "timestamp")
            i = tsEnd
        }
        var exemplar: ExpositionExemplar?
        if i < end {
            exemplar = try parseExemplar(line, from: i)
        }
        return (value, timestampMs, exemplar)
    }

    /// Parses ` # {labels} value [timestamp]` starting at the space before `#`.
    private mutating func parseExemplar(_ line: LineContext, from start: Int) throws(ExpositionParseError) -> ExpositionExemplar {
        let buf = line.buf
        let end = line.range.upperBound
        guard start + 3 < end, buf[start] == ExpositionSyntax.space, buf[start + 1] == ExpositionSyntax.hash,
            buf[start + 2] == ExpositionSyntax.space, buf[start + 3] == ExpositionSyntax.braceOpen
        else {
            throw line.error("expected end of line or an exemplar (\" # {...} value\") after the value or timestamp")
        }
        exemplarScratch.reset()
        var i = try Self.parseLabels(line, from: start + 4, cache: &cache, into: &exemplarScratch)
        guard i < end, buf[i] == ExpositionSyntax.space else { throw line.error("expected a space and a value after the exemplar labels") }
        let valueEnd = tokenEnd(buf, from: i + 1, to: end)
        guard let value = ExpositionSyntax.parseFloat(buf, i + 1..<valueEnd) else {
            throw line.error(valueEnd == i + 1 ? "expected an exemplar value" : "invalid exemplar value \"\(excerpt(buf, i + 1..<valueEnd))\"")
        }
        i = valueEnd
        var timestampMs: Int64?
        if i < end {
            let tsEnd = tokenEnd(buf, from: i + 1, to: end)
            timestampMs = try timestamp(line, i + 1..<tsEnd, what: "exemplar timestamp")
            guard tsEnd == end else { throw line.error("expected end of line after the exemplar timestamp") }
        }
        switch exemplarScratch.build() {
        case .success(let labels): return ExpositionExemplar(labels: labels, value: value, timestampMs: timestampMs)
        case .failure(let duplicate): throw line.error("duplicate label name \"\(duplicate.name)\" in exemplar")
        }
    }

    /// Parses `name="value",...}` after `{` (no spaces, no trailing comma, as the ABNF) and
    /// returns the index after `}`.
    private static func parseLabels(
        _ line: LineContext, from start: Int, cache: inout ExpositionStringCache, into labels: inout ExpositionLabelScratch
    ) throws(ExpositionParseError) -> Int {
        let buf = line.buf
        let end = line.range.upperBound
        var i = start
        if i < end && buf[i] == ExpositionSyntax.braceClose { return i + 1 }
        while true {
            guard let nameEnd = ExpositionSyntax.labelNameEnd(buf, from: i, to: end) else {
                throw line.error(i < end ? "invalid label name starting at \(quoted(buf[i]))" : "unterminated label set")
            }
            guard nameEnd < end, buf[nameEnd] == ExpositionSyntax.equals else { throw line.error("expected \"=\" after label name") }
            guard nameEnd + 1 < end, buf[nameEnd + 1] == ExpositionSyntax.quote else { throw line.error("expected a quoted label value") }
            guard let (close, escaped) = ExpositionSyntax.closingQuote(buf, from: nameEnd + 2, to: end) else {
                throw line.error("unterminated label value")
            }
            let labelName = cache.string(buf, i..<nameEnd) ?? ""
            let valueRange = nameEnd + 2..<close
            let value = escaped ? ExpositionSyntax.unescaped(buf, valueRange, unescapesQuote: true) : cache.string(buf, valueRange)
            guard let value else { throw line.error("label value of \"\(labelName)\" is not valid UTF-8") }
            labels.append(name: labelName, value: value)
            i = close + 1
            guard i < end else { throw line.error("unterminated label set") }
            if buf[i] == ExpositionSyntax.braceClose { return i + 1 }
            guard buf[i] == ExpositionSyntax.comma else { throw line.error("expected \",\" or \"}\" after label value") }
            i += 1
        }
    }

    private func timestamp(_ line: LineContext, _ range: Range<Int>, what: String) throws(ExpositionParseError) -> Int64 {
        guard let seconds = ExpositionSyntax.parseFloat(line.buf, range), let ms = ExpositionSyntax.milliseconds(fromSeconds: seconds) else {
            throw line.error(range.isEmpty ? "expected a \(what)" : "invalid \(what) \"\(excerpt(line.buf, range))\"")
        }
        return ms
    }
}

/// The end of the token at `start`: the next space or the end of the line.
func tokenEnd(_ buf: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Int {
    var i = start
    while i < end && buf[i] != ExpositionSyntax.space { i += 1 }
    return i
}

/// Up to 64 bytes of `buf[range]` for an error message.
func excerpt(_ buf: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
    String(decoding: UnsafeBufferPointer(rebasing: buf[range.lowerBound..<Swift.min(range.upperBound, range.lowerBound + 64)]), as: UTF8.self)
}

/// A byte for an error message: `'x'` if printable, else its hex value.
func quoted(_ byte: UInt8) -> String {
    byte >= 0x20 && byte < 0x7F ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
}
