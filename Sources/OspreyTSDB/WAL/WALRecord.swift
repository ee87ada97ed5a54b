package import OspreyModel

// Record payloads of Prometheus' WAL, as `tsdb/record/record.go` (v2.42) encodes them.
// Spec: https://github.com/prometheus/prometheus/blob/v2.42.0/tsdb/docs/format/wal.md

/// A series record entry: the WAL reference of a series and its labels.
package struct RefSeries: Hashable, Sendable {
    /// The series reference that samples, exemplars and metadata point to.
    package var ref: UInt64
    /// The series' labels.
    package var labels: Labels

    /// Creates an entry.
    package init(ref: UInt64, labels: Labels) {
        self.ref = ref
        self.labels = labels
    }
}

/// A float sample of a series, by reference. Values are kept bit for bit (NaN payloads, the
/// staleness marker), and `==` compares them bit for bit.
package struct RefSample: Hashable, Sendable {
    /// The series reference.
    package var ref: UInt64
    /// Milliseconds since the Unix epoch.
    package var timestampMs: Int64
    /// The value.
    package var value: Double

    /// Creates a sample.
    package init(ref: UInt64, timestampMs: Int64, value: Double) {
        self.ref = ref
        self.timestampMs = timestampMs
        self.value = value
    }

    package static func == (lhs: RefSample, rhs: RefSample) -> Bool {
        lhs.ref == rhs.ref && lhs.timestampMs == rhs.timestampMs && lhs.value.bitPattern == rhs.value.bitPattern
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(ref)
        hasher.combine(timestampMs)
        hasher.combine(value.bitPattern)
    }
}

/// A deletion interval of a series (Prometheus' `tombstones.Stone` with one interval),
/// inclusive on both ends.
package struct RefTombstone: Hashable, Sendable {
    /// The series reference.
    package var ref: UInt64
    /// First deleted millisecond.
    package var minTimeMs: Int64
    /// Last deleted millisecond.
    package var maxTimeMs: Int64

    /// Creates a tombstone.
    package init(ref: UInt64, minTimeMs: Int64, maxTimeMs: Int64) {
        self.ref = ref
        self.minTimeMs = minTimeMs
        self.maxTimeMs = maxTimeMs
    }
}

/// An exemplar of a series, by reference; the value is compared bit for bit.
package struct RefExemplar: Hashable, Sendable {
    /// The series reference.
    package var ref: UInt64
    /// Milliseconds since the Unix epoch.
    package var timestampMs: Int64
    /// The exemplar's value.
    package var value: Double
    /// The exemplar's own labels, e.g. `trace_id`.
    package var labels: Labels

    /// Creates an exemplar entry.
    package init(ref: UInt64, timestampMs: Int64, value: Double, labels: Labels) {
        self.ref = ref
        self.timestampMs = timestampMs
        self.value = value
        self.labels = labels
    }

    package static func == (lhs: RefExemplar, rhs: RefExemplar) -> Bool {
        lhs.ref == rhs.ref && lhs.timestampMs == rhs.timestampMs && lhs.value.bitPattern == rhs.value.bitPattern
            && lhs.labels == rhs.labels
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(ref)
        hasher.combine(timestampMs)
        hasher.combine(value.bitPattern)
        hasher.combine(labels)
    }
}

/// The metadata of a series, by reference.
package struct RefMetadata: Hashable, Sendable {
    /// The series reference.
    package var ref: UInt64
    /// The metric type.
    package var type: MetricType
    /// The unit; empty when unknown.
    package var unit: String
    /// The help text.
    package var help: String

    /// Creates a metadata entry.
    package init(ref: UInt64, type: MetricType, unit: String, help: String) {
        self.ref = ref
        self.type = type
        self.unit = unit
        self.help = help
    }
}

/// The first byte of a WAL record payload.
package enum WALRecordType: Hashable, Sendable {
    /// 1: series definitions.
    case series
    /// 2: float samples.
    case samples
    /// 3: deletion intervals.
    case tombstones
    /// 4: exemplars.
    case exemplars
    /// 6: metric metadata.
    case metadata
    /// Any other byte: 5 (mmap markers), 7+ (native histograms) and future types; replay skips
    /// them. 255 stands for an empty record.
    case unknown(UInt8)

    /// Classifies a type byte.
    package init(byte: UInt8) {
        switch byte {
        case 1: self = .series
        case 2: self = .samples
        case 3: self = .tombstones
        case 4: self = .exemplars
        case 6: self = .metadata
        default: self = .unknown(byte)
        }
    }

    /// The type byte.
    package var byte: UInt8 {
        switch self {
        case .series: 1
        case .samples: 2
        case .tombstones: 3
        case .exemplars: 4
        case .metadata: 6
        case .unknown(let byte): byte
        }
    }
}

/// One decoded WAL record.
package enum WALRecord: Hashable, Sendable {
    /// Series definitions (type 1).
    case series([RefSeries])
    /// Float samples (type 2).
    case samples([RefSample])
    /// Deletion intervals (type 3).
    case tombstones([RefTombstone])
    /// Exemplars (type 4).
    case exemplars([RefExemplar])
    /// Metric metadata (type 6).
    case metadata([RefMetadata])
    /// A record this engine does not apply (mmap markers, histograms, future types).
    case unknown(type: UInt8)
}

extension MetricType {
    /// Prometheus' metadata type byte (`record.MetricType` in record.go): unknown 0, counter 1,
    /// gauge 2, histogram 3, gaugehistogram 4, summary 5, info 6, stateset 7.
    package var walByte: UInt8 {
        switch self {
        case .unknown: 0
        case .counter: 1
        case .gauge: 2
        case .histogram: 3
        case .gaugehistogram: 4
        case .summary: 5
        case .info: 6
        case .stateset: 7
        }
    }

    /// The type for a WAL metadata byte; bytes Prometheus does not define map to `.unknown`,
    /// as Prometheus' `ToTextparseMetricType` does.
    package init(walByte: UInt8) {
        switch walByte {
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
