/// A span of consecutive buckets in a native histogram's sparse layout.
package struct BucketSpan: Hashable, Sendable {
    /// Gap to the previous span (or the start index for the first span).
    package var offset: Int32
    /// Number of consecutive buckets.
    package var length: UInt32

    /// Creates a span.
    package init(offset: Int32, length: UInt32) {
        self.offset = offset
        self.length = length
    }
}

/// What a producer knows about counter resets for a histogram sample.
package enum CounterResetHint: UInt8, Hashable, Sendable {
    case unknown = 0, counterReset = 1, notCounterReset = 2, gauge = 3
}

/// A native (exponential or custom-bucket) histogram with float counts, the form every
/// integer histogram converts to, as Prometheus' `histogram.FloatHistogram`.
package struct FloatHistogram: Hashable, Sendable {
    /// Bucket schema: −4…8 exponential, −53 custom bounds.
    package var schema: Int32
    /// Width of the zero bucket.
    package var zeroThreshold: Double
    /// Observations in the zero bucket.
    package var zeroCount: Double
    /// Total observations.
    package var count: Double
    /// Sum of observations.
    package var sum: Double
    /// Positive bucket layout.
    package var positiveSpans: [BucketSpan]
    /// Absolute counts of the positive buckets.
    package var positiveBuckets: [Double]
    /// Negative bucket layout.
    package var negativeSpans: [BucketSpan]
    /// Absolute counts of the negative buckets.
    package var negativeBuckets: [Double]
    /// Upper bounds for schema −53.
    package var customValues: [Double]
    /// Counter-reset knowledge.
    package var counterResetHint: CounterResetHint

    /// Creates a histogram.
    package init(
        schema: Int32, zeroThreshold: Double = 0, zeroCount: Double = 0, count: Double, sum: Double,
        positiveSpans: [BucketSpan] = [], positiveBuckets: [Double] = [],
        negativeSpans: [BucketSpan] = [], negativeBuckets: [Double] = [],
        customValues: [Double] = [], counterResetHint: CounterResetHint = .unknown
    ) {
        self.schema = schema
        self.zeroThreshold = zeroThreshold
        self.zeroCount = zeroCount
        self.count = count
        self.sum = sum
        self.positiveSpans = positiveSpans
        self.positiveBuckets = positiveBuckets
        self.negativeSpans = negativeSpans
        self.negativeBuckets = negativeBuckets
        self.customValues = customValues
        self.counterResetHint = counterResetHint
    }
}
