package import OspreyModel

extension Expr {
    /// The matchers of every vector selector in the expression, in the order written (Prometheus'
    /// `parser.ExtractSelectors`), for APIs that look series up by a query's selectors.
    package var selectorMatchers: [[LabelMatcher]] {
        var out: [[LabelMatcher]] = []
        collectSelectors(into: &out)
        return out
    }

    private func collectSelectors(into out: inout [[LabelMatcher]]) {
        switch self {
        case .number, .string: break
        case .vectorSelector(let selector): out.append(selector.matchers)
        case .matrixSelector(let matrix): out.append(matrix.selector.matchers)
        case .subquery(let subquery): subquery.expr.collectSelectors(into: &out)
        case .call(let call): for argument in call.args { argument.collectSelectors(into: &out) }
        case .aggregate(let aggregate):
            aggregate.param?.collectSelectors(into: &out)
            aggregate.expr.collectSelectors(into: &out)
        case .binary(let binary):
            binary.lhs.collectSelectors(into: &out)
            binary.rhs.collectSelectors(into: &out)
        case .unaryMinus(let inner, _), .paren(let inner, _): inner.collectSelectors(into: &out)
        }
    }
}
