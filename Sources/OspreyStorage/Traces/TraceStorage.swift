package import OspreyModel

/// What a trace write stored.
package struct TraceWriteSummary: Hashable, Sendable {
    /// Spans stored.
    package var spans: Int

    /// A summary.
    package init(spans: Int) {
        self.spans = spans
    }
}

/// Something that stores spans (the trace store's write contract).
///
/// Contract: ``write(_:)`` returns only once every span is in the store's write-ahead log with
/// its durability guarantee; the spans are visible to readers when it returns. Spans of one
/// trace may arrive in many writes, over minutes, from many services.
package protocol TraceWriter: Sendable {
    /// Stores `spans`; throws `StorageError` when the store cannot (nothing is acknowledged then).
    func write(_ spans: [SpanRecord]) async throws(StorageError) -> TraceWriteSummary
}

/// A trace search, as Jaeger's `TraceQueryParameters` has it.
package struct TraceQuery: Hashable, Sendable {
    /// The service one matching span must belong to.
    package var serviceName: String
    /// Its operation (span name), if given.
    package var operationName: String?
    /// Its span kind, if given.
    package var spanKind: SpanKind?
    /// Conditions on the span's attributes, resource attributes or event attributes; values
    /// match an attribute's text (`"200"` matches the integer 200).
    package var attributes: [(key: String, value: String)]
    /// The matching span starts in this range (ns since the epoch, inclusive).
    package var startTimeMinNanos: UInt64
    package var startTimeMaxNanos: UInt64
    /// The matching span's duration is in this range (ns), when given.
    package var durationMinNanos: UInt64?
    package var durationMaxNanos: UInt64?
    /// Most traces returned (newest first).
    package var limit: Int

    /// A query.
    package init(
        serviceName: String, operationName: String? = nil, spanKind: SpanKind? = nil, attributes: [(key: String, value: String)] = [],
        startTimeMinNanos: UInt64, startTimeMaxNanos: UInt64, durationMinNanos: UInt64? = nil, durationMaxNanos: UInt64? = nil, limit: Int = 20
    ) {
        self.serviceName = serviceName
        self.operationName = operationName
        self.spanKind = spanKind
        self.attributes = attributes
        self.startTimeMinNanos = startTimeMinNanos
        self.startTimeMaxNanos = startTimeMaxNanos
        self.durationMinNanos = durationMinNanos
        self.durationMaxNanos = durationMaxNanos
        self.limit = limit
    }

    package static func == (lhs: TraceQuery, rhs: TraceQuery) -> Bool {
        lhs.serviceName == rhs.serviceName && lhs.operationName == rhs.operationName && lhs.spanKind == rhs.spanKind
            && lhs.attributes.map(\.key) == rhs.attributes.map(\.key) && lhs.attributes.map(\.value) == rhs.attributes.map(\.value)
            && lhs.startTimeMinNanos == rhs.startTimeMinNanos && lhs.startTimeMaxNanos == rhs.startTimeMaxNanos
            && lhs.durationMinNanos == rhs.durationMinNanos && lhs.durationMaxNanos == rhs.durationMaxNanos && lhs.limit == rhs.limit
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(serviceName)
        hasher.combine(operationName)
        hasher.combine(startTimeMinNanos)
        hasher.combine(startTimeMaxNanos)
    }
}

/// An operation of a service.
package struct TraceOperation: Hashable, Sendable {
    /// The span name.
    package var name: String
    /// The span kind.
    package var kind: SpanKind

    /// An operation.
    package init(name: String, kind: SpanKind) {
        self.name = name
        self.kind = kind
    }
}

/// A call count from one service to another (Jaeger's `DependencyLink`).
package struct DependencyLink: Hashable, Sendable {
    package var parent: String
    package var child: String
    package var callCount: Int

    /// A link.
    package init(parent: String, child: String, callCount: Int) {
        self.parent = parent
        self.child = child
        self.callCount = callCount
    }
}

/// Something that finds stored spans (the trace store's read contract).
package protocol TraceReader: Sendable {
    /// Every stored span of a trace (empty when unknown). The time range is only a hint of
    /// where to look first; spans outside it are returned too.
    func trace(_ id: TraceID) throws(StorageError) -> [SpanRecord]

    /// Service names with spans stored, sorted.
    func services() throws(StorageError) -> [String]

    /// A service's operations, sorted by name then kind; `kind` restricts them.
    func operations(service: String, kind: SpanKind?) throws(StorageError) -> [TraceOperation]

    /// The IDs of the traces with a span matching every condition, newest first, at most
    /// `query.limit`.
    func findTraceIDs(_ query: TraceQuery) throws(StorageError) -> [TraceID]

    /// Calls between services (parent span's service → child span's service) in the range.
    func dependencies(startNanos: UInt64, endNanos: UInt64) throws(StorageError) -> [DependencyLink]
}
