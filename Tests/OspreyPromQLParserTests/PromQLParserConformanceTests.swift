import Foundation
import OspreyPromQLParser
import Testing

/// Every `eval` expression of the shared PromQL conformance corpus is valid PromQL (the corpus
/// promises the Prometheus parser accepts all of them with experimental syntax on).
struct PromQLParserConformanceTests {
    /// Syntax Osprey's parser does not have yet, by corpus file, with the reason.
    static let unsupportedFiles: [String: String] = [
        "fill-modifier.test": "fill()/fill_left()/fill_right() binary-operator modifiers (experimental, not in the Prometheus 3 docs)",
        "extended_vectors.test": "anchored/smoothed range modifiers (experimental, not in the Prometheus 3 docs)",
    ]

    /// Experimental syntax newer than the Prometheus 3 documentation, skipped with its reason.
    static let unsupportedSyntax: [(pattern: String, reason: String)] = [
        ("</", "native histogram trim operators </ and >/"),
        (">/", "native histogram trim operators </ and >/"),
        ("histogram_quantiles(", "histogram_quantiles (experimental)"),
        ("max_of(", "duration-expression functions max_of/min_of"),
        ("min_of(", "duration-expression functions max_of/min_of"),
        ("step()", "duration-expression functions step()/range()"),
        ("range()", "duration-expression functions step()/range()"),
        ("start()", "start()/end() as functions (experimental)"),
        ("end()", "start()/end() as functions (experimental)"),
        ("start_timestamp(", "start timestamps are out of scope of the PromQL issue"),
    ]

    static func corpusDirectory() -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.deletingLastPathComponent().appendingPathComponent("shared/conformance/promql/testdata").path
    }

    static func expressions() throws -> [(file: String, line: Int, expr: String)] {
        let directory = corpusDirectory()
        var out: [(String, Int, String)] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: directory).sorted() where file.hasSuffix(".test") {
            let text = try String(contentsOfFile: directory + "/" + file, encoding: .utf8)
            for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let line = raw.trimmingCharacters(in: .whitespaces)
                let words = line.split(separator: " ", omittingEmptySubsequences: true)
                guard let command = words.first, command.hasPrefix("eval"), words.count > 2 else { continue }
                let headerWords = words[1] == "instant" ? 4 : 8
                guard words.count > headerWords else { continue }
                // The expression is the rest of the line after the header tokens.
                var rest = Substring(line)
                for _ in 0..<headerWords {
                    rest = rest.drop(while: { $0 == " " })
                    rest = rest.drop(while: { $0 != " " })
                }
                out.append((file, number + 1, rest.trimmingCharacters(in: .whitespaces)))
            }
        }
        return out
    }

    @Test func everyCorpusExpressionParses() throws {
        let all = try Self.expressions()
        #expect(all.count > 1500)
        var passed = 0
        var skipped = 0
        var failures: [String] = []
        for (file, line, expr) in all {
            do {
                let parsed = try PromQLParser.parse(expr)
                // The canonical form parses back to the same tree.
                let reparsed = try PromQLParser.parse(parsed.description)
                if reparsed.description != parsed.description {
                    failures.append("\(file):\(line): \(expr) printed as \(parsed.description), reprinted as \(reparsed.description)")
                } else {
                    passed += 1
                }
            } catch {
                if Self.unsupportedFiles[file] != nil || Self.unsupportedSyntax.contains(where: { expr.lowercased().contains($0.pattern) }) {
                    skipped += 1
                } else {
                    failures.append("\(file):\(line): \(expr): \(error)")
                }
            }
        }
        print("PromQL parser conformance: \(passed) passed, \(failures.count) failed, \(skipped) skipped")
        for failure in failures { print("PARSE-FAIL " + failure) }
        #expect(failures.isEmpty, "\(failures.count) corpus expressions failed; see PARSE-FAIL lines")
    }
}
