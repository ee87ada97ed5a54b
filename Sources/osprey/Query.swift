import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `osprey query EXPR`: runs PromQL against a running Osprey (or any Prometheus-compatible
/// server) and prints the result as promtool does, or the raw JSON.
struct Query: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a PromQL query against a running server.",
        discussion: """
            An instant query at --time (default now), or a range query when --start or --end is given \
            (--end defaults to now, --start to an hour before --end, --step to 1/250 of the range). \
            Times are RFC 3339 or Unix seconds; durations as in PromQL (30s, 1m) or seconds.
            """
    )

    @Argument(help: "The PromQL expression.")
    var expression: String

    @Option(name: .customLong("server"), help: "Base URL of the server.")
    var server = "http://127.0.0.1:9090"

    @Option(name: .customLong("time"), help: "Evaluation time of an instant query.")
    var time: String?

    @Option(name: .customLong("start"), help: "Start of a range query.")
    var start: String?

    @Option(name: .customLong("end"), help: "End of a range query.")
    var end: String?

    @Option(name: .customLong("step"), help: "Resolution of a range query.")
    var step: String?

    @Option(name: .customLong("timeout"), help: "Query timeout (the server's --query.timeout caps it).")
    var timeout: String?

    @Option(name: .customLong("format"), help: "Output: text (as promtool) or json (the API response).")
    var format = "text"

    func validate() throws {
        guard format == "text" || format == "json" else { throw ValidationError("invalid --format \"\(format)\": use text or json") }
        guard URL(string: server)?.scheme != nil else { throw ValidationError("invalid --server \"\(server)\": use a URL such as http://127.0.0.1:9090") }
    }

    func run() async throws {
        let isRange = start != nil || end != nil || step != nil
        var parameters = [("query", expression)]
        if isRange {
            let endSeconds = try seconds(end, name: "end") ?? Date().timeIntervalSince1970
            let startSeconds = try seconds(start, name: "start") ?? endSeconds - 3600
            parameters.append(("start", String(startSeconds)))
            parameters.append(("end", String(endSeconds)))
            parameters.append(("step", step ?? String(max(1, ((endSeconds - startSeconds) / 250).rounded()))))
        } else if let time {
            parameters.append(("time", time))
        }
        if let timeout { parameters.append(("timeout", timeout)) }
        let path = isRange ? "/api/v1/query_range" : "/api/v1/query"
        var request = URLRequest(url: try ServerRequest.url(server, path))
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(Self.formEncode(parameters).utf8)
        let body = try await ServerRequest.jsonObject(request, server: server, echo: format == "json")
        if body["status"] as? String != "success" {
            let type = body["errorType"] as? String ?? "error"
            let message = body["error"] as? String ?? "unknown error"
            FileHandle.standardError.write(Data("Error: \(type): \(message)\n".utf8))
            throw ExitCode(1)
        }
        for key in ["warnings", "infos"] {
            for note in body[key] as? [String] ?? [] { FileHandle.standardError.write(Data("\(note)\n".utf8)) }
        }
        if format == "text", let result = body["data"] as? [String: Any] {
            print(Self.render(result), terminator: "")
        }
    }

    private func seconds(_ text: String?, name: String) throws -> Double? {
        guard let text else { return nil }
        if let value = Double(text) { return value }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date.timeIntervalSince1970 }
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return date.timeIntervalSince1970 }
        throw ValidationError("invalid --\(name) \"\(text)\": use RFC 3339 or Unix seconds")
    }

    static func formEncode(_ parameters: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return parameters.map { name, value in
            "\(name)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)"
        }.joined(separator: "&")
    }

    /// promtool's text form: `metric{labels} => value @[timestamp]` per vector element; a
    /// matrix lists each series' points under its name.
    static func render(_ data: [String: Any]) -> String {
        var out = ""
        let result = data["result"]
        switch data["resultType"] as? String {
        case "vector":
            for element in result as? [[String: Any]] ?? [] {
                let point = element["value"] as? [Any] ?? []
                out += "\(metric(element["metric"])) => \(value(point)) @[\(time(point))]\n"
            }
        case "matrix":
            for series in result as? [[String: Any]] ?? [] {
                out += "\(metric(series["metric"])) =>\n"
                for point in series["values"] as? [[Any]] ?? [] { out += "\(value(point)) @[\(time(point))]\n" }
            }
        default:
            let point = result as? [Any] ?? []
            out += "\(value(point)) @[\(time(point))]\n"
        }
        return out
    }

    private static func metric(_ any: Any?) -> String {
        var labels = any as? [String: String] ?? [:]
        let name = labels.removeValue(forKey: "__name__") ?? ""
        let pairs = labels.keys.sorted().map { key in "\(key)=\"\(escape(labels[key] ?? ""))\"" }
        return name + "{" + pairs.joined(separator: ", ") + "}"
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }

    private static func value(_ point: [Any]) -> String { point.count > 1 ? "\(point[1])" : "" }

    private static func time(_ point: [Any]) -> String {
        guard let first = point.first else { return "" }
        if let number = first as? NSNumber { return String(format: "%.3f", number.doubleValue) }
        return "\(first)"
    }
}
