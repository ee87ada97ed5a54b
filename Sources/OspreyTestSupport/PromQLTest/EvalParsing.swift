import Foundation
import OspreyModel
import OspreyPromQLParser

/// `eval` headers and bodies (FORMAT.md §4).
enum EvalParsing {
    static func parse(_ header: Substring, _ number: Int, _ body: [(Int, Substring)]) throws(PromQLTestScriptError) -> PromQLTestScript.EvalCommand {
        var words = header.split(separator: " ", omittingEmptySubsequences: true)
        let command = String(words.removeFirst())
        func duration(_ text: Substring) throws(PromQLTestScriptError) -> Int64 {
            guard let ms = PrometheusDuration.parseMilliseconds(String(text)) else {
                throw PromQLTestScriptError(line: number, message: "invalid duration \"\(text)\" in eval header")
            }
            return ms
        }
        let kind: PromQLTestScript.EvalCommand.Kind
        let headerCount: Int
        if words.first == "instant" {
            guard words.count >= 4, words[1] == "at" else { throw PromQLTestScriptError(line: number, message: "invalid instant eval header") }
            kind = .instant(atMs: try duration(words[2]))
            headerCount = 4
        } else if words.first == "range" {
            guard words.count >= 8, words[1] == "from", words[3] == "to", words[5] == "step" else {
                throw PromQLTestScriptError(line: number, message: "invalid range eval header")
            }
            let start = try duration(words[2])
            let end = try duration(words[4])
            guard end >= start else { throw PromQLTestScriptError(line: number, message: "range eval ends before it starts") }
            kind = .range(startMs: start, endMs: end, stepMs: try duration(words[6]))
            headerCount = 8
        } else {
            throw PromQLTestScriptError(line: number, message: "eval must be \"instant\" or \"range\"")
        }
        var rest = header[...]
        for _ in 0..<headerCount {
            rest = rest.drop(while: { $0 == " " || $0 == "\t" }).drop(while: { $0 != " " && $0 != "\t" })
        }
        var eval = PromQLTestScript.EvalCommand(line: number, expr: rest.trimmingCharacters(in: .whitespaces), kind: kind)
        switch command {
        case "eval_fail": eval.expectations.fail = (nil, nil)
        case "eval_warn": eval.expectations.warnings = [nil]
        case "eval_info": eval.expectations.infos = [nil]
        case "eval_ordered": eval.expectations.ordered = true
        default: break
        }
        for (line, text) in body {
            try parseBodyLine(text, line, &eval)
        }
        return eval
    }

    private static func parseBodyLine(_ text: Substring, _ line: Int, _ eval: inout PromQLTestScript.EvalCommand) throws(PromQLTestScriptError) {
        if text.hasPrefix("expected_fail_message ") {
            eval.expectations.fail = (String(text.dropFirst("expected_fail_message ".count)), nil)
        } else if text.hasPrefix("expected_fail_regexp ") {
            eval.expectations.fail = (nil, String(text.dropFirst("expected_fail_regexp ".count)))
        } else if text.hasPrefix("expect range vector ") {
            let words = text.split(separator: " ")
            guard words.count == 9, let start = PrometheusDuration.parseMilliseconds(String(words[4])),
                  let end = PrometheusDuration.parseMilliseconds(String(words[6])),
                  let step = PrometheusDuration.parseMilliseconds(String(words[8]))
            else { throw PromQLTestScriptError(line: line, message: "invalid \"expect range vector\" line") }
            eval.expectations.rangeVector = (start, end, step)
        } else if text.hasPrefix("expect string") {
            let literal = text.dropFirst("expect string".count).trimmingCharacters(in: .whitespaces)
            guard literal.count >= 2 else { throw PromQLTestScriptError(line: line, message: "expect string needs a quoted string") }
            eval.expectations.string = try unquote(literal, line: line)
        } else if text.split(separator: " ").first == "expect" {
            try parseExpect(text, line, &eval.expectations)
        } else if !text.contains(" "), let scalar = SeriesNotation.number(text) {
            eval.scalar = scalar
        } else {
            let (descriptor, values) = SeriesNotation.splitDescriptor(text)
            eval.series.append((try SeriesNotation.labels(descriptor, line: line), try SeriesNotation.values(values, line: line)))
        }
    }

    private static func parseExpect(_ text: Substring, _ line: Int, _ expectations: inout PromQLTestScript.Expectations) throws(PromQLTestScriptError) {
        var rest = text.dropFirst("expect".count).drop(while: { $0 == " " })
        let type = rest.prefix(while: { $0 != " " })
        rest = rest.dropFirst(type.count).drop(while: { $0 == " " })
        var message: String?
        var regex: String?
        if rest.hasPrefix("msg:") {
            message = rest.dropFirst(4).trimmingCharacters(in: .whitespaces)
        } else if rest.hasPrefix("regex:") {
            regex = rest.dropFirst(6).trimmingCharacters(in: .whitespaces)
        } else if !rest.isEmpty {
            throw PromQLTestScriptError(line: line, message: "invalid expect line \"\(text)\"")
        }
        switch type {
        case "fail": expectations.fail = (message, regex)
        case "warn": expectations.warnings.append(message ?? regex.map { "regex:" + $0 })
        case "no_warn": expectations.noWarnings = true
        case "info": expectations.infos.append(message ?? regex.map { "regex:" + $0 })
        case "no_info": expectations.noInfos = true
        case "ordered": expectations.ordered = true
        default: throw PromQLTestScriptError(line: line, message: "unknown expectation \"\(type)\"")
        }
        if expectations.noWarnings && !expectations.warnings.isEmpty || expectations.noInfos && !expectations.infos.isEmpty {
            throw PromQLTestScriptError(line: line, message: "warn and no_warn (or info and no_info) in one eval")
        }
    }

    private static func unquote(_ literal: String, line: Int) throws(PromQLTestScriptError) -> String {
        // PromQL's string rules (Go escapes, raw backquotes) via its lexer.
        if let tokens = try? PromQLLexer.tokens(literal), tokens.count == 2, case .string(let value) = tokens[0].kind {
            return value
        }
        throw PromQLTestScriptError(line: line, message: "invalid quoted string \(literal)")
    }
}
