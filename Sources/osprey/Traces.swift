import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `osprey traces get|search`: reads traces from a running Osprey through its Jaeger API and
/// prints them as a tree of spans.
struct Traces: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read traces from a running server (its Jaeger query API).",
        subcommands: [Get.self, Search.self]
    )

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print one trace as a tree of spans.")

        @Argument(help: "The trace ID (32 or 16 hex digits).")
        var traceID: String

        @Option(name: .customLong("server"), help: "Base URL of the server.")
        var server = "http://127.0.0.1:9090"

        @Option(name: .customLong("format"), help: "Output: text (a tree) or json (the API response).")
        var format = "text"

        func validate() throws {
            try TraceCLI.validate(server: server, format: format)
            guard (1...32).contains(traceID.count), traceID.allSatisfy(\.isHexDigit) else {
                throw ValidationError("invalid trace ID \"\(traceID)\": want 1 to 32 hex digits")
            }
        }

        func run() async throws {
            let body = try await TraceCLI.get(server: server, path: "/api/traces/" + traceID, parameters: [], format: format)
            guard format == "text" else { return }
            for trace in body {
                print(TraceCLI.tree(trace), terminator: "")
            }
        }
    }

    struct Search: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Find traces and print each one's root span, duration and span count, newest first.",
            discussion: "Matches as Jaeger does: one span of the service must meet every condition.")

        @Option(name: .customLong("service"), help: "Service name (required).")
        var service: String

        @Option(name: .customLong("operation"), help: "Operation (span name).")
        var operation: String?

        @Option(name: .customLong("tag"), help: "key=value condition on a span's attributes; repeatable.")
        var tags: [String] = []

        @Option(name: .customLong("lookback"), help: "How far back to look (Go duration, default 1h).")
        var lookback = "1h"

        @Option(name: .customLong("min-duration"), help: "Shortest matching span (Go duration such as 100ms).")
        var minDuration: String?

        @Option(name: .customLong("max-duration"), help: "Longest matching span.")
        var maxDuration: String?

        @Option(name: .customLong("limit"), help: "Most traces.")
        var limit = 20

        @Option(name: .customLong("server"), help: "Base URL of the server.")
        var server = "http://127.0.0.1:9090"

        @Option(name: .customLong("format"), help: "Output: text or json (the API response).")
        var format = "text"

        func validate() throws {
            try TraceCLI.validate(server: server, format: format)
            guard limit > 0 else { throw ValidationError("--limit must be positive") }
            for tag in tags where !tag.contains("=") { throw ValidationError("invalid --tag \"\(tag)\": use key=value") }
        }

        func run() async throws {
            var parameters = [("service", service), ("lookback", lookback), ("limit", String(limit))]
            if let operation { parameters.append(("operation", operation)) }
            if let minDuration { parameters.append(("minDuration", minDuration)) }
            if let maxDuration { parameters.append(("maxDuration", maxDuration)) }
            for tag in tags {
                let parts = tag.split(separator: "=", maxSplits: 1).map(String.init)
                parameters.append(("tag", parts[0] + ":" + (parts.count > 1 ? parts[1] : "")))
            }
            let traces = try await TraceCLI.get(server: server, path: "/api/traces", parameters: parameters, format: format)
            guard format == "text" else { return }
            if traces.isEmpty { print("no traces found") }
            for trace in traces { print(TraceCLI.summary(trace)) }
        }
    }
}

/// The HTTP and rendering parts of `osprey traces`.
enum TraceCLI {
    static func validate(server: String, format: String) throws {
        guard format == "text" || format == "json" else { throw ValidationError("invalid --format \"\(format)\": use text or json") }
        guard URL(string: server)?.scheme != nil else { throw ValidationError("invalid --server \"\(server)\": use a URL such as http://127.0.0.1:9090") }
    }

    /// The `data` traces of a Jaeger API answer (printing the raw answer for --format json).
    static func get(server: String, path: String, parameters: [(String, String)], format: String) async throws -> [[String: Any]] {
        let query = parameters.isEmpty ? "" : "?" + Query.formEncode(parameters)
        let body = try await ServerRequest.jsonObject(URLRequest(url: try ServerRequest.url(server, path + query)), server: server, echo: format == "json")
        if let errors = body["errors"] as? [[String: Any]], !errors.isEmpty {
            for error in errors { FileHandle.standardError.write(Data("Error: \(error["msg"] as? String ?? "unknown error")\n".utf8)) }
            throw ExitCode(1)
        }
        return body["data"] as? [[String: Any]] ?? []
    }

    /// A trace as an indented tree: each span's service, operation, start offset, duration and
    /// error mark, children under their parents in start order.
    static func tree(_ trace: [String: Any]) -> String {
        let spans = trace["spans"] as? [[String: Any]] ?? []
        let processes = trace["processes"] as? [String: [String: Any]] ?? [:]
        let ids = Set(spans.compactMap { $0["spanID"] as? String })
        var children: [String: [[String: Any]]] = [:]
        var roots: [[String: Any]] = []
        for span in spans {
            let parent = (span["references"] as? [[String: Any]] ?? []).first { $0["refType"] as? String == "CHILD_OF" }?["spanID"] as? String
            if let parent, ids.contains(parent) { children[parent, default: []].append(span) } else { roots.append(span) }
        }
        let start = spans.compactMap { ($0["startTime"] as? NSNumber)?.int64Value }.min() ?? 0
        let byStart = { (a: [String: Any], b: [String: Any]) -> Bool in
            ((a["startTime"] as? NSNumber)?.int64Value ?? 0) < ((b["startTime"] as? NSNumber)?.int64Value ?? 0)
        }
        var out = "trace \(trace["traceID"] as? String ?? "") (\(spans.count) spans)\n"
        func render(_ span: [String: Any], depth: Int) {
            let service = processes[span["processID"] as? String ?? ""]?["serviceName"] as? String ?? "?"
            let offset = ((span["startTime"] as? NSNumber)?.int64Value ?? 0) - start
            let duration = (span["duration"] as? NSNumber)?.int64Value ?? 0
            let failed = (span["tags"] as? [[String: Any]] ?? []).contains { $0["key"] as? String == "error" && ($0["value"] as? Bool ?? false) }
            out += String(repeating: "  ", count: depth + 1)
            out += "\(service): \(span["operationName"] as? String ?? "") +\(milliseconds(offset)) \(milliseconds(duration))"
            out += failed ? " ERROR\n" : "\n"
            for child in (children[span["spanID"] as? String ?? ""] ?? []).sorted(by: byStart) { render(child, depth: depth + 1) }
        }
        for root in roots.sorted(by: byStart) { render(root, depth: 0) }
        return out
    }

    /// One line per trace: ID, start, root span, duration, spans.
    static func summary(_ trace: [String: Any]) -> String {
        let spans = trace["spans"] as? [[String: Any]] ?? []
        let processes = trace["processes"] as? [String: [String: Any]] ?? [:]
        let starts = spans.compactMap { ($0["startTime"] as? NSNumber)?.int64Value }
        let ends = spans.compactMap { span -> Int64? in
            guard let start = (span["startTime"] as? NSNumber)?.int64Value, let duration = (span["duration"] as? NSNumber)?.int64Value else { return nil }
            return start + duration
        }
        let root = spans.first { ($0["references"] as? [[String: Any]] ?? []).isEmpty } ?? spans.first ?? [:]
        let service = processes[root["processID"] as? String ?? ""]?["serviceName"] as? String ?? "?"
        let start = starts.min() ?? 0
        let date = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(start) / 1e6))
        return "\(trace["traceID"] as? String ?? "")  \(date)  \(service): \(root["operationName"] as? String ?? "")  \(milliseconds((ends.max() ?? start) - start))  \(spans.count) spans"
    }

    static func milliseconds(_ micros: Int64) -> String {
        micros >= 1000 ? String(format: "%.1fms", Double(micros) / 1000) : "\(micros)µs"
    }
}
