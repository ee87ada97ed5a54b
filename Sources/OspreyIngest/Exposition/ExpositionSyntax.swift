#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Byte-level pieces shared by the exposition parsers: character classes, numbers, escapes.
enum ExpositionSyntax {
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let quote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")
    static let hash = UInt8(ascii: "#")
    static let braceOpen = UInt8(ascii: "{")
    static let braceClose = UInt8(ascii: "}")
    static let comma = UInt8(ascii: ",")
    static let equals = UInt8(ascii: "=")
    static let carriageReturn = UInt8(ascii: "\r")

    /// Prometheus' `value.NormalNaN`: the NaN every parsed NaN becomes, so that it can never be
    /// mistaken for the staleness marker.
    static let normalNaN = Double(bitPattern: 0x7ff8_0000_0000_0001)

    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }
    @inline(__always) static func isLetter(_ b: UInt8) -> Bool { (b | 0x20) &- 0x61 < 26 }
    /// `[a-zA-Z_:]`
    @inline(__always) static func isMetricNameStart(_ b: UInt8) -> Bool { isLetter(b) || b == 0x5F || b == 0x3A }
    /// `[a-zA-Z0-9_:]`
    @inline(__always) static func isMetricNameChar(_ b: UInt8) -> Bool { isMetricNameStart(b) || isDigit(b) }
    /// `[a-zA-Z_]`
    @inline(__always) static func isLabelNameStart(_ b: UInt8) -> Bool { isLetter(b) || b == 0x5F }
    /// `[a-zA-Z0-9_]`
    @inline(__always) static func isLabelNameChar(_ b: UInt8) -> Bool { isLabelNameStart(b) || isDigit(b) }

    /// The end of the metric name starting at `start` (`[a-zA-Z_:][a-zA-Z0-9_:]*`), or nil when
    /// no name starts there.
    static func metricNameEnd(_ buf: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Int? {
        guard start < end, isMetricNameStart(buf[start]) else { return nil }
        var i = start + 1
        while i < end && isMetricNameChar(buf[i]) { i += 1 }
        return i
    }

    /// The end of the label name starting at `start` (`[a-zA-Z_][a-zA-Z0-9_]*`), or nil.
    static func labelNameEnd(_ buf: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Int? {
        guard start < end, isLabelNameStart(buf[start]) else { return nil }
        var i = start + 1
        while i < end && isLabelNameChar(buf[i]) { i += 1 }
        return i
    }

    /// The end of the series part of a sample line: the metric name, or the name and its
    /// label set through the closing `}` (blanks before `{` when `allowsBlanks`, as the text
    /// format allows). A quote-aware scan that checks nothing else: nil when no metric name
    /// starts the line or its label set does not close.
    static func seriesEnd(_ buf: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int, allowsBlanks: Bool) -> Int? {
        guard let nameEnd = metricNameEnd(buf, from: start, to: end) else { return nil }
        var i = nameEnd
        if allowsBlanks {
            while i < end && (buf[i] == space || buf[i] == tab) { i += 1 }
        }
        guard i < end, buf[i] == braceOpen else { return nameEnd }
        i += 1
        while i < end {
            let b = buf[i]
            if b == braceClose { return i + 1 }
            if b == quote {
                guard let (close, _) = closingQuote(buf, from: i + 1, to: end) else { return nil }
                i = close + 1
            } else {
                i += 1
            }
        }
        return nil
    }

    /// Finds the closing quote of a quoted string whose opening quote is at `start - 1`.
    /// Returns its index and whether a backslash occurred, or nil if the line ends first.
    static func closingQuote(_ buf: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> (index: Int, escaped: Bool)? {
        var i = start
        var escaped = false
        while i < end {
            let b = buf[i]
            if b == quote { return (i, escaped) }
            if b == backslash {
                escaped = true
                i += 2
            } else {
                i += 1
            }
        }
        return nil
    }

    /// Undoes label-value escaping (`\\`, `\"`, `\n`; with `unescapesQuote` false only `\\` and
    /// `\n`, as Prometheus text HELP). Other escapes are kept verbatim, as Prometheus does.
    /// Returns nil when the result is not valid UTF-8.
    static func unescaped(_ buf: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, unescapesQuote: Bool) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        var i = range.lowerBound
        while i < range.upperBound {
            let b = buf[i]
            if b == backslash && i + 1 < range.upperBound {
                let next = buf[i + 1]
                switch next {
                case backslash: out.append(backslash)
                case UInt8(ascii: "n"): out.append(0x0A)
                case quote where unescapesQuote: out.append(quote)
                default:
                    out.append(b)
                    out.append(next)
                }
                i += 2
            } else {
                out.append(b)
                i += 1
            }
        }
        return String(validating: out, as: UTF8.self)
    }

    /// Parses a float as Go's `strconv.ParseFloat` does for the forms Prometheus accepts:
    /// decimal with optional sign, fraction and exponent (`1`, `-1.5`, `.5`, `5.`, `1e3`,
    /// `1E+03`), case-insensitive `inf`/`infinity` with optional sign, and `nan` without sign.
    /// Hex floats and underscores are rejected (Prometheus rejects `p`, `P` and `_`), and so
    /// are values beyond the range of a Double (Go's `ErrRange`). NaN is ``normalNaN``.
    static func parseFloat(_ buf: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Double? {
        var i = range.lowerBound
        let end = range.upperBound
        guard i < end else { return nil }
        var negative = false
        if buf[i] == UInt8(ascii: "+") || buf[i] == UInt8(ascii: "-") {
            negative = buf[i] == UInt8(ascii: "-")
            i += 1
            guard i < end else { return nil }
        }
        switch buf[i] | 0x20 {
        case UInt8(ascii: "i"):
            guard matchesIgnoringCase(buf, i..<end, "inf") || matchesIgnoringCase(buf, i..<end, "infinity") else { return nil }
            return negative ? -Double.infinity : Double.infinity
        case UInt8(ascii: "n"):
            guard i == range.lowerBound, matchesIgnoringCase(buf, i..<end, "nan") else { return nil }
            return normalNaN
        default:
            break
        }
        var mantissa: UInt64 = 0
        var digitCount = 0
        var fractionDigits = 0
        var sawDot = false
        var exact = true
        while i < end {
            let b = buf[i]
            if isDigit(b) {
                if digitCount < 18 {
                    mantissa = mantissa &* 10 &+ UInt64(b &- 0x30)
                } else {
                    exact = false
                }
                digitCount += 1
                if sawDot { fractionDigits += 1 }
            } else if b == UInt8(ascii: ".") && !sawDot {
                sawDot = true
            } else {
                break
            }
            i += 1
        }
        guard digitCount > 0 else { return nil }
        if i < end {
            guard buf[i] | 0x20 == UInt8(ascii: "e") else { return nil }
            i += 1
            if i < end && (buf[i] == UInt8(ascii: "+") || buf[i] == UInt8(ascii: "-")) { i += 1 }
            guard i < end else { return nil }
            while i < end {
                guard isDigit(buf[i]) else { return nil }
                i += 1
            }
            exact = false
        }
        // Both operands exactly representable: one correctly rounded division (Clinger's fast path).
        if exact && mantissa < (1 << 53) && fractionDigits < powersOfTen.count {
            let magnitude = fractionDigits == 0 ? Double(mantissa) : Double(mantissa) / powersOfTen[fractionDigits]
            return negative ? -magnitude : magnitude
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: buf[range]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else { return nil }
        return value
    }

    private static let powersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
        1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    /// Whether `buf[range]` is `word` (lowercase ASCII) ignoring case.
    static func matchesIgnoringCase(_ buf: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ word: StaticString) -> Bool {
        guard range.count == word.utf8CodeUnitCount else { return false }
        let w = word.utf8Start
        for offset in 0..<range.count where buf[range.lowerBound + offset] | 0x20 != w[offset] {
            return false
        }
        return true
    }

    /// Whether `buf[range]` equals the ASCII `word` exactly.
    static func matches(_ buf: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ word: StaticString) -> Bool {
        guard range.count == word.utf8CodeUnitCount else { return false }
        guard !range.isEmpty, let base = buf.baseAddress else { return range.isEmpty }
        return memcmp(base + range.lowerBound, word.utf8Start, range.count) == 0
    }

    /// Parses a non-negative decimal integer of digits only (Prometheus text timestamps);
    /// nil on empty input, other characters or overflow.
    static func parseDigits(_ buf: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int64? {
        guard !range.isEmpty else { return nil }
        var value: Int64 = 0
        for i in range {
            let b = buf[i]
            guard isDigit(b) else { return nil }
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int64(b &- 0x30))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
        }
        return value
    }

    /// Converts OpenMetrics seconds to milliseconds as Prometheus does (`int64(ts * 1000)`,
    /// truncating toward zero); nil for NaN, infinities and values outside Int64.
    static func milliseconds(fromSeconds seconds: Double) -> Int64? {
        let ms = seconds * 1000
        guard ms.isFinite, ms > -9.223_372_036_854_775_808e18, ms < 9.223_372_036_854_775_808e18 else { return nil }
        return Int64(ms)
    }
}
