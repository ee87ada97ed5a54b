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
        var bytes: [UInt8] = []
        appendF(value, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// ``f(_:)`` appended to `bytes`, without building strings (query results write millions).
    package static func appendF(_ value: Double, to bytes: inout [UInt8]) {
        if let special = special(value) {
            bytes.append(contentsOf: special.utf8)
            return
        }
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        let magnitude = abs(value)
        // Integers below 2^53 (most counters and gauges): their digits, directly.
        if magnitude < 9_007_199_254_740_992, magnitude.rounded(.towardZero) == magnitude {
            appendInteger(UInt64(magnitude), to: &bytes)
            return
        }
        // Swift's description is the shortest round-trip form: "123.25", "1e-05", "1.5e+20";
        // without an exponent it is already Go's 'f' form.
        let text = magnitude.description
        if magnitude < 9_007_199_254_740_992, !text.utf8.contains(UInt8(ascii: "e")) {
            bytes.append(contentsOf: text.utf8)
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { digits in
            var count = 0
            var pointPosition = 0
            var exponent = 0
            var seenPoint = false
            var inExponent = false
            var exponentNegative = false
            for byte in text.utf8 {
                if inExponent {
                    if byte == UInt8(ascii: "-") { exponentNegative = true } else if byte >= 0x30 && byte <= 0x39 { exponent = exponent * 10 + Int(byte - 0x30) }
                } else if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                    inExponent = true
                } else if byte == UInt8(ascii: ".") {
                    seenPoint = true
                } else if count < 32 {
                    digits[count] = byte
                    count += 1
                    if !seenPoint { pointPosition += 1 }
                }
            }
            pointPosition += exponentNegative ? -exponent : exponent
            var first = 0
            while first < count - 1 && digits[first] == UInt8(ascii: "0") {
                first += 1
                pointPosition -= 1
            }
            var last = count
            while last - 1 > first && digits[last - 1] == UInt8(ascii: "0") { last -= 1 }
            let significant = last - first
            if pointPosition <= 0 {
                bytes.append(UInt8(ascii: "0"))
                bytes.append(UInt8(ascii: "."))
                for _ in 0..<(-pointPosition) { bytes.append(UInt8(ascii: "0")) }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[first..<last]))
            } else if pointPosition >= significant {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[first..<last]))
                for _ in 0..<(pointPosition - significant) { bytes.append(UInt8(ascii: "0")) }
            } else {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[first..<(first + pointPosition)]))
                bytes.append(UInt8(ascii: "."))
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[(first + pointPosition)..<last]))
            }
        }
    }

    /// The decimal digits of `value`.
    package static func appendInteger(_ value: UInt64, to bytes: inout [UInt8]) {
        if value < 10 {
            bytes.append(UInt8(ascii: "0") + UInt8(value))
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buffer in
            var index = 20
            var rest = value
            while rest > 0 {
                index -= 1
                buffer[index] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[index..<20]))
        }
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
