package import OspreyModel

/// Parses a series selector such as `up{job="api", instance=~"10\\..*"}` or
/// `{"http.server.duration", method!="GET"}`, as the `match[]` parameters of the Prometheus
/// HTTP API take them (Prometheus' `parser.ParseMetricSelector`): PromQL restricted to one
/// vector selector without modifiers.
package enum SeriesSelectorParser {
    /// The matchers of `input`; throws ``PromQLParseError`` with the position of the problem.
    package static func parse(_ input: String) throws(PromQLParseError) -> [LabelMatcher] {
        let expr = try PromQLParser.parse(input, experimental: false)
        guard case .vectorSelector(let selector) = expr, selector.offset == nil, selector.at == nil else {
            throw PromQLParseError(position: 0, message: "expected a series selector such as up{job=\"api\"}, got \"\(expr)\"")
        }
        return selector.matchers
    }
}
