@testable import OspreyPromQL
import Testing

struct NaturalSortTests {
    @Test(arguments: [("a9", "a10", true), ("a10", "a9", false), ("x1y2", "x1y10", true), ("b", "a", false), ("a", "ab", true), ("", "a", false)])
    func comparesDigitRunsAsNumbers(_ a: String, _ b: String, _ less: Bool) {
        #expect(SortByLabel.naturalLess(a, b) == less)
    }
}

struct HistogramHelperTests {
    @Test func bucketQuantileInterpolatesAndReportsForcedMonotonicity() {
        let buckets = [
            HistogramFunctions.Bucket(upperBound: 1, count: 5), HistogramFunctions.Bucket(upperBound: 2, count: 4),
            HistogramFunctions.Bucket(upperBound: .infinity, count: 10),
        ]
        let result = HistogramFunctions.bucketQuantile(0.75, buckets)
        #expect(result.forcedMonotonic)
        #expect(result.minBucket == 2 && result.maxBucket == 2 && result.maxDiff == 1)
        #expect(result.value == 2)
        #expect(HistogramFunctions.bucketQuantile(0.25, buckets).value == 0.5)
    }

    @Test func openMetricsFloatsAlwaysShowAFraction() {
        #expect(OpenMetricsFloat.format(1) == "1.0")
        #expect(OpenMetricsFloat.format(0.99) == "0.99")
        #expect(OpenMetricsFloat.format(1e21) == "1e+21")
        #expect(OpenMetricsFloat.format(.infinity) == "+Inf")
    }

    @Test func goTimeFormatting() {
        #expect(QueryContext.rfc3339(0) == "1970-01-01T00:00:00Z")
        #expect(QueryContext.rfc3339(1_704_067_199_999) == "2023-12-31T23:59:59Z")
    }
}
