/// A PromQL function's signature, as Prometheus' `parser.Functions` table.
package struct PromQLFunction: Hashable, Sendable {
    /// The function's name.
    package let name: String
    /// Argument types; with ``variadic`` the trailing ones may be omitted or repeated.
    package let argTypes: [ValueType]
    /// 0: exactly `argTypes`; n > 0: up to n trailing arguments may be left out; -1: the last
    /// argument type repeats without limit.
    package let variadic: Int
    /// Result type.
    package let returnType: ValueType
    /// Experimental in Prometheus 3 (needs `--enable-feature=promql-experimental-functions`).
    package let experimental: Bool

    init(_ name: String, _ argTypes: [ValueType], _ returnType: ValueType = .vector, variadic: Int = 0, experimental: Bool = false) {
        self.name = name
        self.argTypes = argTypes
        self.variadic = variadic
        self.returnType = returnType
        self.experimental = experimental
    }

    /// The function called `name`, if PromQL has one.
    package static func named(_ name: String) -> PromQLFunction? { table[name] }

    /// Every function.
    package static var all: [PromQLFunction] { Array(table.values) }

    private static let table: [String: PromQLFunction] = {
        let v = ValueType.vector
        let m = ValueType.matrix
        let s = ValueType.scalar
        let str = ValueType.string
        var functions: [PromQLFunction] = [
            .init("absent", [v]), .init("absent_over_time", [m]), .init("avg_over_time", [m]), .init("changes", [m]),
            .init("clamp", [v, s, s]), .init("clamp_max", [v, s]), .init("clamp_min", [v, s]),
            .init("count_over_time", [m]), .init("delta", [m]), .init("deriv", [m]),
            .init("double_exponential_smoothing", [m, s, s], experimental: true),
            .init("histogram_avg", [v]), .init("histogram_count", [v]), .init("histogram_fraction", [s, s, v]),
            .init("histogram_quantile", [s, v]), .init("histogram_stddev", [v]), .init("histogram_stdvar", [v]),
            .init("histogram_sum", [v]), .init("idelta", [m]), .init("increase", [m]), .init("irate", [m]),
            .init("info", [v, v], variadic: 1, experimental: true),
            .init("label_join", [v, str, str, str], variadic: -1), .init("label_replace", [v, str, str, str, str]),
            .init("last_over_time", [m]), .init("mad_over_time", [m], experimental: true),
            .init("max_over_time", [m]), .init("min_over_time", [m]), .init("pi", [], s),
            .init("predict_linear", [m, s]), .init("present_over_time", [m]), .init("quantile_over_time", [s, m]),
            .init("rate", [m]), .init("resets", [m]), .init("round", [v, s], variadic: 1), .init("scalar", [v], s),
            .init("sort", [v]), .init("sort_desc", [v]),
            .init("sort_by_label", [v, str], variadic: -1, experimental: true),
            .init("sort_by_label_desc", [v, str], variadic: -1, experimental: true),
            .init("stddev_over_time", [m]), .init("stdvar_over_time", [m]), .init("sum_over_time", [m]),
            .init("time", [], s), .init("timestamp", [v]), .init("vector", [s]),
            .init("ts_of_max_over_time", [m], experimental: true), .init("ts_of_min_over_time", [m], experimental: true),
            .init("ts_of_last_over_time", [m], experimental: true), .init("first_over_time", [m], experimental: true),
            .init("ts_of_first_over_time", [m], experimental: true),
        ]
        for name in ["abs", "acos", "acosh", "asin", "asinh", "atan", "atanh", "ceil", "cos", "cosh", "deg", "exp",
                     "floor", "ln", "log10", "log2", "rad", "sgn", "sin", "sinh", "sqrt", "tan", "tanh"] {
            functions.append(.init(name, [v]))
        }
        for name in ["day_of_month", "day_of_week", "day_of_year", "days_in_month", "hour", "minute", "month", "year"] {
            functions.append(.init(name, [v], variadic: 1))
        }
        return Dictionary(uniqueKeysWithValues: functions.map { ($0.name, $0) })
    }()
}
