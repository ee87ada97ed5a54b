package import OspreyModel

/// Parses a series selector such as `up{job="api", instance=~"10\\..*"}` or
/// `{"http.server.duration", method!="GET"}`, as the `match[]` parameters of the Prometheus
/// HTTP API take them (Prometheus' `parser.ParseMetricSelector`).
package enum SeriesSelectorParser {
    /// The matchers of `input`; throws ``PromQLParseError`` with the position of the problem.
    package static func parse(_ input: String) throws(PromQLParseError) -> [LabelMatcher] {
        var scanner = SelectorScanner(Array(input.utf8))
        scanner.skipSpace()
        var matchers: [LabelMatcher] = []
        if let name = scanner.identifier(allowColon: true) {
            matchers.append(try makeMatcher(.equal, Labels.metricNameLabel, name, at: 0))
        }
        scanner.skipSpace()
        if scanner.consume(UInt8(ascii: "{")) {
            try parseMatchers(&scanner, into: &matchers)
        }
        scanner.skipSpace()
        guard scanner.isAtEnd else {
            throw PromQLParseError(position: scanner.position, message: "unexpected character \(scanner.describeCurrent()) after selector")
        }
        guard !matchers.isEmpty else {
            throw PromQLParseError(position: 0, message: "unexpected end of input")
        }
        guard matchers.contains(where: { !$0.matchesEmpty }) else {
            throw PromQLParseError(position: 0, message: "vector selector must contain at least one non-empty matcher")
        }
        return matchers
    }

    private static func parseMatchers(_ scanner: inout SelectorScanner, into matchers: inout [LabelMatcher]) throws(PromQLParseError) {
        while true {
            scanner.skipSpace()
            if scanner.consume(UInt8(ascii: "}")) { return }
            let start = scanner.position
            let name: String
            if let quoted = try scanner.quotedString() {
                scanner.skipSpace()
                if scanner.peek == UInt8(ascii: ",") || scanner.peek == UInt8(ascii: "}") {
                    // A quoted name alone is the metric name (Prometheus 3 UTF-8 syntax).
                    matchers.append(try makeMatcher(.equal, Labels.metricNameLabel, quoted, at: start))
                    try finishItem(&scanner)
                    if scanner.previousWasClose { return }
                    continue
                }
                name = quoted
            } else if let identifier = scanner.identifier(allowColon: false) {
                name = identifier
            } else {
                throw PromQLParseError(position: scanner.position, message: "unexpected \(scanner.describeCurrent()) in label matching, expected label name")
            }
            scanner.skipSpace()
            guard let type = scanner.matchOperator() else {
                throw PromQLParseError(position: scanner.position, message: "unexpected \(scanner.describeCurrent()) in label matching, expected label matching operator")
            }
            scanner.skipSpace()
            let valueStart = scanner.position
            guard let value = try scanner.quotedString() else {
                throw PromQLParseError(position: scanner.position, message: "unexpected \(scanner.describeCurrent()) in label matching, expected string")
            }
            matchers.append(try makeMatcher(type, name, value, at: valueStart))
            try finishItem(&scanner)
            if scanner.previousWasClose { return }
        }
    }

    private static func finishItem(_ scanner: inout SelectorScanner) throws(PromQLParseError) {
        scanner.skipSpace()
        scanner.previousWasClose = false
        if scanner.consume(UInt8(ascii: ",")) { return }
        if scanner.consume(UInt8(ascii: "}")) {
            scanner.previousWasClose = true
            return
        }
        throw PromQLParseError(position: scanner.position, message: "unexpected \(scanner.describeCurrent()) in label matching, expected \",\" or \"}\"")
    }

    private static func makeMatcher(_ type: MatchType, _ name: String, _ value: String, at position: Int) throws(PromQLParseError) -> LabelMatcher {
        do {
            return try LabelMatcher(type, name, value)
        } catch {
            throw PromQLParseError(position: position, message: error.message)
        }
    }
}
