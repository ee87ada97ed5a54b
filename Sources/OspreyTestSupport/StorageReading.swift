package import OspreyModel
package import OspreyStorage

/// Reads every matching series with its samples: a test convenience over the querier contract.
package func readAll(
    _ queryable: any MetricQueryable, matchers: [LabelMatcher], minTimeMs: Int64 = .min, maxTimeMs: Int64 = .max
) throws -> [Labels: [Sample]] {
    let querier = try queryable.querier(minTimeMs: minTimeMs, maxTimeMs: maxTimeMs)
    defer { querier.close() }
    let set = try querier.select(sorted: true, hints: nil, matchers: matchers)
    var out: [Labels: [Sample]] = [:]
    while let series = try set.next() {
        let iterator = series.iterator(reusing: nil)
        var samples: [Sample] = []
        while iterator.next() == .float { samples.append(iterator.floatSample) }
        out[series.labels] = samples
    }
    return out
}

/// A matcher that cannot fail to compile; for tests.
package func matcher(_ type: MatchType, _ name: String, _ value: String) -> LabelMatcher {
    do {
        return try LabelMatcher(type, name, value)
    } catch {
        preconditionFailure("test matcher \(name)\(type.rawValue)\(value) is invalid: \(error)")
    }
}
