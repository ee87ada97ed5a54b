package import OspreyModel
package import OspreyStorage

/// A histogram sample of a remote-write series.
package struct RemoteHistogramSample: Hashable, Sendable {
    /// Milliseconds since the epoch.
    package var timestampMs: Int64
    /// The histogram, with integer counts converted to floats.
    package var histogram: FloatHistogram

    /// Creates a sample.
    package init(timestampMs: Int64, histogram: FloatHistogram) {
        self.timestampMs = timestampMs
        self.histogram = histogram
    }
}

/// The samples of one series. Most remote-write series carry exactly one sample per request,
/// so that case is stored inline: no array (and no allocation) per series on the hot path.
package enum SampleList: Hashable, Sendable {
    case empty
    case one(Sample)
    case many([Sample])

    /// A list holding `samples`.
    package init(_ samples: [Sample]) {
        switch samples.count {
        case 0: self = .empty
        case 1: self = .one(samples[0])
        default: self = .many(samples)
        }
    }

    /// Adds a sample at the end.
    package mutating func append(_ sample: Sample) {
        switch self {
        case .empty: self = .one(sample)
        case .one(let first): self = .many([first, sample])
        case .many(var list):
            self = .empty
            list.append(sample)
            self = .many(list)
        }
    }

    /// The samples as an array (allocates; for tests and cold paths).
    package var array: [Sample] {
        switch self {
        case .empty: return []
        case .one(let sample): return [sample]
        case .many(let list): return list
        }
    }

    /// The first sample, if any.
    package var first: Sample? {
        switch self {
        case .empty: return nil
        case .one(let sample): return sample
        case .many(let list): return list.first
        }
    }
}

/// One series of a remote-write request, in the form both protocol versions decode to.
package struct RemoteTimeSeries: Hashable, Sendable {
    /// The labels, sorted; duplicates are kept so validation can reject them.
    package var labels: Labels
    /// Float samples in request order.
    package var sampleList: SampleList
    /// Float samples in request order, as an array.
    package var samples: [Sample] {
        get { sampleList.array }
        set { sampleList = SampleList(newValue) }
    }
    /// Exemplars.
    package var exemplars: [Exemplar]
    /// Native histogram samples.
    package var histograms: [RemoteHistogramSample]
    /// Metadata (2.0 carries it per series).
    package var metadata: MetricMetadata?
    /// Start ("created") timestamp of a counter or histogram, 2.0 only.
    package var startTimestampMs: Int64?
    /// Set when a ``SeriesRefCache`` knew the series: `labels` is then empty and not needed.
    package var cachedRef: SeriesRef?
    /// The raw label bytes to remember in the cache once the series is stored.
    package var cacheKey: [UInt8]?

    /// Creates a series.
    package init(
        labels: Labels, samples: [Sample] = [], exemplars: [Exemplar] = [], histograms: [RemoteHistogramSample] = [],
        metadata: MetricMetadata? = nil, startTimestampMs: Int64? = nil
    ) {
        self.labels = labels
        self.sampleList = SampleList(samples)
        self.exemplars = exemplars
        self.histograms = histograms
        self.metadata = metadata
        self.startTimestampMs = startTimestampMs
    }
}

/// Metadata of a metric family, as remote write 1.0 sends it (per family name).
package struct RemoteMetricMetadata: Hashable, Sendable {
    /// The family name.
    package var metricFamilyName: String
    /// Type, unit and help.
    package var metadata: MetricMetadata

    /// Creates metadata.
    package init(metricFamilyName: String, metadata: MetricMetadata) {
        self.metricFamilyName = metricFamilyName
        self.metadata = metadata
    }
}

/// A decoded remote-write request (1.0 or 2.0).
package struct RemoteWriteRequest: Hashable, Sendable {
    /// The series.
    package var timeseries: [RemoteTimeSeries]
    /// 1.0's per-family metadata.
    package var metadata: [RemoteMetricMetadata]

    /// Creates a request.
    package init(timeseries: [RemoteTimeSeries] = [], metadata: [RemoteMetricMetadata] = []) {
        self.timeseries = timeseries
        self.metadata = metadata
    }
}

extension MetricType {
    /// The type for a protobuf `MetricType` enum number (same numbering in 1.0 and 2.0).
    package init(protoNumber: UInt64) {
        switch protoNumber {
        case 1: self = .counter
        case 2: self = .gauge
        case 3: self = .histogram
        case 4: self = .gaugehistogram
        case 5: self = .summary
        case 6: self = .info
        case 7: self = .stateset
        default: self = .unknown
        }
    }
}
