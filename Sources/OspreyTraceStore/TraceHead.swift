import OspreyEncoding
package import OspreyModel
package import OspreyStorage

/// The spans written since the last cut, in memory: kept in their encoded WAL form (the
/// payloads of the writes) and decoded when read, so the head takes about what it encodes to;
/// indexed by trace, with each service's operations and traces for search.
package struct TraceHead: Sendable {
    /// Where an encoded span is: its write's payload and the byte range in it.
    struct SpanLocation: Sendable {
        var payload: Int32
        var start: Int32
        var length: Int32
    }

    struct Entry: Sendable {
        var spans: [SpanLocation] = []
        var minStart: UInt64 = .max
        var maxEnd: UInt64 = 0
    }

    private var payloads: [[UInt8]] = []
    private(set) var traces: [TraceID: Entry] = [:]
    /// Per service: its operations.
    private(set) var operations: [String: Set<TraceOperation>] = [:]
    /// Per service: the traces with a span of it, each once, in first-arrival order.
    private var tracesByService: [String: [TraceID]] = [:]
    private var serviceTraceSeen: Set<ServiceTrace> = []
    /// Spans held.
    package private(set) var spanCount = 0
    /// Encoded bytes of the spans held (the WAL's payload size).
    package private(set) var byteCount = 0

    private struct ServiceTrace: Hashable, Sendable {
        var service: String
        var trace: TraceID
    }

    /// An empty head.
    package init() {}

    /// Adds spans (already in the WAL) with the payload they were encoded to and each span's
    /// byte range in it.
    package mutating func insert(_ spans: [SpanRecord], payload: [UInt8], ranges: [Range<Int>]) {
        let payloadIndex = Int32(payloads.count)
        payloads.append(payload)
        for (span, range) in zip(spans, ranges) {
            let service = span.serviceName
            var entry = traces.removeValue(forKey: span.traceID) ?? Entry()
            entry.spans.append(SpanLocation(payload: payloadIndex, start: Int32(range.lowerBound), length: Int32(range.count)))
            entry.minStart = min(entry.minStart, span.startTimeUnixNano)
            entry.maxEnd = max(entry.maxEnd, span.endTimeUnixNano)
            traces[span.traceID] = entry
            if operations[service]?.contains(TraceOperation(name: span.name, kind: span.kind)) != true {
                operations[service, default: []].insert(TraceOperation(name: span.name, kind: span.kind))
            }
            if serviceTraceSeen.insert(ServiceTrace(service: service, trace: span.traceID)).inserted {
                tracesByService[service, default: []].append(span.traceID)
            }
        }
        spanCount += spans.count
        byteCount += payload.count
    }

    private func decode(_ entry: Entry) -> [SpanRecord] {
        entry.spans.compactMap { location in
            payloads[Int(location.payload)].withUnsafeBytes { raw in
                let start = Int(location.start)
                var reader = ByteReader(UnsafeRawBufferPointer(rebasing: raw[start..<(start + Int(location.length))]))
                // The bytes were written by SpanCodec in this process: they decode.
                return try? SpanCodec.read(&reader)
            }
        }
    }

    /// The trace's spans held here.
    package func trace(_ id: TraceID) -> [SpanRecord] {
        traces[id].map(decode) ?? []
    }

    /// The IDs of the traces held.
    package var traceIDs: [TraceID] { Array(traces.keys) }

    /// Every trace held, decoded.
    package var allTraces: [TraceID: [SpanRecord]] { traces.mapValues(decode) }

    /// Services with spans here.
    package var services: [String] { Array(operations.keys) }

    /// The traces (with the start of their newest matching span) that have a span matching
    /// every condition of `query`.
    package func find(_ query: TraceQuery) -> [(TraceID, UInt64)] {
        var found: [(TraceID, UInt64)] = []
        for id in tracesByService[query.serviceName] ?? [] {
            guard let entry = traces[id], entry.maxEnd >= query.startTimeMinNanos, entry.minStart <= query.startTimeMaxNanos else { continue }
            var newest: UInt64?
            for span in decode(entry) where TraceMatching.matches(span, query) {
                newest = max(newest ?? 0, span.startTimeUnixNano)
            }
            if let newest { found.append((id, newest)) }
        }
        return found
    }

    /// Parent → child service calls among spans starting in the range.
    package func dependencies(startNanos: UInt64, endNanos: UInt64, into counts: inout [ServicePair: Int]) {
        for entry in traces.values where entry.maxEnd >= startNanos && entry.minStart <= endNanos {
            Self.countDependencies(decode(entry), startNanos: startNanos, endNanos: endNanos, into: &counts)
        }
    }

    /// Counts the calls between services among one trace's spans: a span whose parent is a
    /// span of another service is a call from that service (Jaeger's dependency graph).
    static func countDependencies(_ spans: [SpanRecord], startNanos: UInt64, endNanos: UInt64, into counts: inout [ServicePair: Int]) {
        var serviceBySpan: [SpanID: String] = [:]
        for span in spans { serviceBySpan[span.spanID] = span.serviceName }
        for span in spans where !span.parentSpanID.isZero && span.startTimeUnixNano >= startNanos && span.startTimeUnixNano <= endNanos {
            guard let parent = serviceBySpan[span.parentSpanID], parent != span.serviceName else { continue }
            counts[ServicePair(parent: parent, child: span.serviceName), default: 0] += 1
        }
    }


}

/// A caller and a callee service.
package struct ServicePair: Hashable, Sendable {
    package var parent: String
    package var child: String
}

/// Jaeger's search semantics for one span.
package enum TraceMatching {
    /// Whether `span` matches every condition of `query`: its service, operation and kind, its
    /// start time and duration ranges, and every attribute condition against its attributes,
    /// its resource's, its events' or the tags Jaeger derives (`span.kind`, `error`,
    /// `otel.status_code`, `otel.status_description`, `otel.scope.name`, `otel.scope.version`).
    package static func matches(_ span: SpanRecord, _ query: TraceQuery) -> Bool {
        guard span.serviceName == query.serviceName else { return false }
        if let operation = query.operationName, span.name != operation { return false }
        if let kind = query.spanKind, span.kind != kind { return false }
        guard span.startTimeUnixNano >= query.startTimeMinNanos, span.startTimeUnixNano <= query.startTimeMaxNanos else { return false }
        let duration = span.durationNanos
        if let minimum = query.durationMinNanos, duration < minimum { return false }
        if let maximum = query.durationMaxNanos, duration > maximum { return false }
        for condition in query.attributes where !matches(span, key: condition.key, value: condition.value) {
            return false
        }
        return true
    }

    static func matches(_ span: SpanRecord, key: String, value: String) -> Bool {
        if span.attributes.contains(where: { $0.key == key && $0.value.text == value }) { return true }
        if span.resource.attributes.contains(where: { $0.key == key && $0.value.text == value }) { return true }
        for event in span.events where event.attributes.contains(where: { $0.key == key && $0.value.text == value }) {
            return true
        }
        switch key {
        case "span.kind": return span.kind.jaegerName == value
        case "error": return value == "true" && span.status.code == .error
        case "otel.status_code": return (span.status.code == .ok && value == "OK") || (span.status.code == .error && value == "ERROR")
        case "otel.status_description": return span.status.code == .error && span.status.message == value
        case "otel.scope.name": return span.scope.name == value
        case "otel.scope.version": return span.scope.version == value
        default: return false
        }
    }
}
