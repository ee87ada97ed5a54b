/// Prometheus' duration syntax (`model.ParseDuration`): units y, w, d, h, m, s, ms in
/// decreasing order, each at most once, e.g. `1h30m`, `15s`, `500ms`; `0` alone is allowed.
package enum PrometheusDuration {
    /// Milliseconds of `text`, or nil when it is not a valid duration.
    package static func parseMilliseconds(_ text: String) -> Int64? {
        if text == "0" { return 0 }
        let units: [(String, Int64)] = [
            ("y", 365 * 86_400_000), ("w", 7 * 86_400_000), ("d", 86_400_000), ("h", 3_600_000),
            ("m", 60_000), ("s", 1000), ("ms", 1),
        ]
        var bytes = Array(text.utf8)[...]
        guard !bytes.isEmpty else { return nil }
        var total: Int64 = 0
        var nextUnit = 0
        while !bytes.isEmpty {
            var number: Int64 = 0
            var digits = 0
            while let byte = bytes.first, byte >= 0x30, byte <= 0x39 {
                let (product, overflow) = number.multipliedReportingOverflow(by: 10)
                guard !overflow else { return nil }
                number = product + Int64(byte - 0x30)
                digits += 1
                bytes = bytes.dropFirst()
            }
            guard digits > 0 else { return nil }
            var unitText = ""
            while let byte = bytes.first, (byte >= 0x61 && byte <= 0x7A) {
                unitText.append(Character(Unicode.Scalar(byte)))
                bytes = bytes.dropFirst()
            }
            guard let index = units.firstIndex(where: { $0.0 == unitText }), index >= nextUnit else { return nil }
            nextUnit = index + 1
            let (scaled, overflow) = number.multipliedReportingOverflow(by: units[index].1)
            guard !overflow else { return nil }
            let (sum, overflowSum) = total.addingReportingOverflow(scaled)
            guard !overflowSum else { return nil }
            total = sum
        }
        return total
    }

    /// Prometheus' canonical form of a duration, e.g. `1h30m`, `15s`, `0s`.
    package static func format(milliseconds: Int64) -> String {
        if milliseconds == 0 { return "0s" }
        var remaining = milliseconds
        var out = remaining < 0 ? "-" : ""
        remaining = abs(remaining)
        let units: [(String, Int64)] = [
            ("y", 365 * 86_400_000), ("w", 7 * 86_400_000), ("d", 86_400_000), ("h", 3_600_000),
            ("m", 60_000), ("s", 1000), ("ms", 1),
        ]
        for (name, size) in units where remaining >= size {
            out += "\(remaining / size)\(name)"
            remaining %= size
        }
        return out
    }
}
