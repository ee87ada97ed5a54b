/// Formats doubles as Go's `strconv.FormatFloat` does, which Prometheus' outputs follow.
package enum GoFloatFormat {
    /// `FormatFloat(value, 'g', -1, 64)` (Go's `%v`): shortest round-trip digits, exponent form
    /// when the decimal exponent is < -4 or ≥ 6 (`1e+06`); `+Inf`, `-Inf`, `NaN`.
    package static func g(_ value: Double) -> String {
        if let special = special(value) { return special }
        let (negative, digits, exponent) = decompose(value)
        let sign = negative ? "-" : ""
        if exponent < -4 || exponent >= 6 {
            var mantissa = String(digits.first ?? "0")
            if digits.count > 1 { mantissa += "." + digits.dropFirst() }
            let expSign = exponent < 0 ? "-" : "+"
            let expDigits = String(abs(exponent))
            return sign + mantissa + "e" + expSign + (expDigits.count < 2 ? "0" + expDigits : expDigits)
        }
        return sign + fixed(digits, exponent)
    }

    /// `FormatFloat(value, 'f', -1, 64)`: shortest round-trip digits, never an exponent.
    package static func f(_ value: Double) -> String {
        if let special = special(value) { return special }
        let (negative, digits, exponent) = decompose(value)
        return (negative ? "-" : "") + fixed(digits, exponent)
    }

    private static func special(_ value: Double) -> String? {
        if value.isNaN { return "NaN" }
        if value == .infinity { return "+Inf" }
        if value == -.infinity { return "-Inf" }
        if value == 0 { return value.sign == .minus ? "-0" : "0" }
        return nil
    }

    /// Shortest digits (no leading/trailing zeros) and the decimal exponent of the first digit.
    private static func decompose(_ value: Double) -> (Bool, String, Int) {
        // Swift's description is the shortest round-trip representation, e.g. "1.5e-05", "123.0".
        var text = abs(value).description
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = String(text[..<e])
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let integer = String(parts[0])
        let fraction = parts.count > 1 ? String(parts[1]) : ""
        var digits = integer + fraction
        var pointPosition = integer.count + exponent
        while digits.hasPrefix("0") && digits.count > 1 {
            digits.removeFirst()
            pointPosition -= 1
        }
        while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
        return (value.sign == .minus, digits, pointPosition - 1)
    }

    private static func fixed(_ digits: String, _ exponent: Int) -> String {
        let pointPosition = exponent + 1
        if pointPosition <= 0 {
            return "0." + String(repeating: "0", count: -pointPosition) + digits
        }
        if pointPosition >= digits.count {
            return digits + String(repeating: "0", count: pointPosition - digits.count)
        }
        let index = digits.index(digits.startIndex, offsetBy: pointPosition)
        return String(digits[..<index]) + "." + String(digits[index...])
    }
}
