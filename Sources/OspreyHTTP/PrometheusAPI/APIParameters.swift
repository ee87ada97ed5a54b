import HTTPTypes
import Hummingbird
import NIOCore
import OspreyModel
import OspreyPromQLParser

/// Request parameters merged from the URL query and, for form POSTs, the body, as Go's
/// `Request.ParseForm` does (body values first).
struct APIParameters: Sendable {
    private var values: [(String, String)]

    init(values: [(String, String)]) {
        self.values = values
    }

    /// Reads the query string and, for `application/x-www-form-urlencoded` POSTs, the body.
    static func from(_ request: Request, maxBodyBytes: Int = 8 << 20) async throws -> APIParameters {
        var values: [(String, String)] = []
        if request.method == .post,
           request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true
        {
            var request = request
            let body = try await request.collectBody(upTo: maxBodyBytes)
            values += FormDecoding.decode(String(buffer: body))
        }
        values += FormDecoding.decode(request.uri.query ?? "")
        return APIParameters(values: values)
    }

    /// The first value of `name`, or nil.
    func first(_ name: String) -> String? {
        values.first { $0.0 == name }?.1
    }

    /// Every value of `name`, in order.
    func all(_ name: String) -> [String] {
        values.compactMap { $0.0 == name ? $0.1 : nil }
    }

    /// A timestamp parameter in ms (RFC 3339 or Unix seconds), or `defaultMs` when absent.
    func time(_ name: String, default defaultMs: Int64) throws(APIError) -> Int64 {
        guard let text = first(name), !text.isEmpty else { return defaultMs }
        guard let value = TimeParsing.parseTimestampMs(text) else {
            throw APIError(.badData, "invalid parameter \"\(name)\": cannot parse \"\(text)\" to a valid timestamp")
        }
        return value
    }

    /// A timestamp parameter that must be present.
    func requiredTime(_ name: String) throws(APIError) -> Int64 {
        let text = first(name) ?? ""
        guard let value = TimeParsing.parseTimestampMs(text) else {
            throw APIError(.badData, "invalid parameter \"\(name)\": cannot parse \"\(text)\" to a valid timestamp")
        }
        return value
    }

    /// A duration parameter in ms, as Prometheus' `parseDuration`: float seconds or a duration
    /// such as `1m30s`; nil when absent.
    func durationMs(_ name: String) throws(APIError) -> Int64? {
        guard let text = first(name), !text.isEmpty else { return nil }
        if let seconds = Double(text), !text.lowercased().contains("x") {
            let ms = seconds * 1000
            guard ms.isFinite, abs(ms) < 9.2e15 else {
                throw APIError(.badData, "invalid parameter \"\(name)\": cannot parse \"\(text)\" to a valid duration. It overflows int64")
            }
            return Int64(ms.rounded(.towardZero))
        }
        guard let ms = PrometheusDuration.parseMilliseconds(text) else {
            throw APIError(.badData, "invalid parameter \"\(name)\": cannot parse \"\(text)\" to a valid duration")
        }
        return ms
    }

    /// `start`/`end` for metadata endpoints, defaulting to all time; end must not precede start.
    func timeRange() throws(APIError) -> (startMs: Int64, endMs: Int64) {
        let start = try time("start", default: TimeParsing.minTimeMs)
        let end = try time("end", default: TimeParsing.maxTimeMs)
        guard end >= start else {
            throw APIError(.badData, "invalid parameter \"end\": end timestamp must not be before start time")
        }
        return (start, end)
    }

    /// The `limit` parameter: 0 (no limit) when absent; an error when negative or malformed.
    func limit() throws(APIError) -> Int {
        guard let text = first("limit"), !text.isEmpty else { return 0 }
        guard let value = Int(text) else {
            throw APIError(.badData, "invalid parameter \"limit\": cannot parse \"\(text)\" to a valid limit")
        }
        guard value >= 0 else {
            throw APIError(.badData, "invalid parameter \"limit\": limit must be non-negative")
        }
        return value
    }

    /// Parsed `match[]` selectors.
    func matcherSets() throws(APIError) -> [[LabelMatcher]] {
        var sets: [[LabelMatcher]] = []
        for selector in all("match[]") {
            do {
                sets.append(try SeriesSelectorParser.parse(selector))
            } catch {
                throw APIError(.badData, "invalid parameter \"match[]\": \(error)")
            }
        }
        return sets
    }
}

/// `application/x-www-form-urlencoded` decoding (`+` is a space, `%XX` a byte).
enum FormDecoding {
    static func decode(_ text: String) -> [(String, String)] {
        guard !text.isEmpty else { return [] }
        return text.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (unescape(parts[0]), parts.count > 1 ? unescape(parts[1]) : "")
        }
    }

    private static func unescape(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "+") {
                bytes.append(0x20)
            } else if byte == UInt8(ascii: "%"), iterator.count >= 2,
                      let high = hex(iterator[iterator.startIndex]), let low = hex(iterator[iterator.startIndex + 1])
            {
                bytes.append(high << 4 | low)
                iterator = iterator.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - 0x30
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - 0x61 + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - 0x41 + 10
        default: return nil
        }
    }
}
