import Foundation
import OspreyModel

/// `label_replace` and `label_join`.
enum LabelFunctions {
    static func replace(_ elements: [VectorElement], destination: String, replacement: String, source: String, regex source_: String) throws(PromQLError) -> [VectorElement] {
        let regex: AnchoredRegex
        do {
            regex = try AnchoredRegex(source_)
        } catch {
            throw PromQLError(code: .execution, message: "invalid regular expression in label_replace(): \(source_)")
        }
        guard isValidDestination(destination) else {
            throw PromQLError(code: .execution, message: "invalid destination label name in label_replace(): \(destination)")
        }
        var out: [VectorElement] = []
        for var element in elements {
            let value = element.labels[source] ?? ""
            if let expanded = regex.expand(replacement, matching: value) {
                var builder = LabelsBuilder(element.labels)
                builder.set(destination, expanded)
                element.labels = builder.labels()
                if destination == Labels.metricNameLabel { element.dropsName = false }
            }
            out.append(element)
        }
        return out
    }

    static func join(_ elements: [VectorElement], destination: String, separator: String, sources: [String]) throws(PromQLError) -> [VectorElement] {
        guard isValidDestination(destination) else {
            throw PromQLError(code: .execution, message: "invalid destination label name in label_join(): \(destination)")
        }
        return elements.map { element in
            var copy = element
            let joined = sources.map { element.labels[$0] ?? "" }.joined(separator: separator)
            var builder = LabelsBuilder(element.labels)
            builder.set(destination, joined)
            copy.labels = builder.labels()
            if destination == Labels.metricNameLabel { copy.dropsName = false }
            return copy
        }
    }

    /// A valid UTF-8 label name. The parser turns invalid UTF-8 bytes in strings into U+FFFD,
    /// so a name holding U+FFFD came from invalid UTF-8, which Prometheus rejects.
    private static func isValidDestination(_ name: String) -> Bool {
        NameValidationScheme.utf8.isValidLabelName(name) && !name.unicodeScalars.contains("\u{FFFD}")
    }
}

/// Date functions (`hour`, `day_of_week`, …) on Unix seconds, in UTC.
enum DateFunctions {
    static let names: Set<String> = ["day_of_month", "day_of_week", "day_of_year", "days_in_month", "hour", "minute", "month", "year"]

    static func apply(_ name: String, seconds: Double) -> Double {
        guard seconds.isFinite else { return .nan }
        let total = Int64(floor(seconds))
        let days = floorDivision(total, 86_400)
        let secondsOfDay = total - days * 86_400
        let (year, month, day) = civil(days)
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let monthLengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        switch name {
        case "hour": return Double(secondsOfDay / 3600)
        case "minute": return Double(secondsOfDay % 3600 / 60)
        case "year": return Double(year)
        case "month": return Double(month)
        case "day_of_month": return Double(day)
        case "day_of_week": return Double(((days % 7) + 11) % 7)
        case "day_of_year": return Double(monthLengths.prefix(Int(month) - 1).reduce(0, +) + Int(day))
        case "days_in_month": return Double(monthLengths[Int(month) - 1])
        default: return .nan
        }
    }

    /// Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
    static func civil(_ days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
