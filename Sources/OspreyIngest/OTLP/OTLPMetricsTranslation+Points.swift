import OspreyModel
import OspreyStorage

extension OTLPMetricsTranslation {
    // MARK: - Gauge and sum

    /// A `NumberDataPoint` (attributes 7, start 2, time 3, as_double 4, as_int 6, exemplars 5,
    /// flags 8): one sample; exemplars only on sums, as Prometheus.
    mutating func numberPoint(_ message: ProtoReader, _ metric: inout OTLPMetricContext, _ resource: inout OTLPResourceContext, _ scope: OTLPScopeContext, isSum: Bool) throws {
        attributeEntries.removeAll(keepingCapacity: true)
        exemplarReaders.removeAll(keepingCapacity: true)
        var reader = message
        var timeNs: UInt64 = 0
        var startNs: UInt64 = 0
        var value = 0.0
        var flags: UInt64 = 0
        while !reader.isAtEnd {
            let entryStart = reader.offset
            let (field, wire) = try reader.readTag()
            switch field {
            case 7:
                try reader.expect(wire, .lengthDelimited, field: field)
                let entry = try reader.readMessage()
                attributeEntries.append((entry, reader.bytes(entryStart..<reader.offset)))
            case 2:
                try reader.expect(wire, .fixed64, field: field)
                startNs = try reader.readFixed64()
            case 3:
                try reader.expect(wire, .fixed64, field: field)
                timeNs = try reader.readFixed64()
            case 4:
                try reader.expect(wire, .fixed64, field: field)
                value = try reader.readDouble()
            case 6:
                try reader.expect(wire, .fixed64, field: field)
                value = Double(Int64(bitPattern: try reader.readFixed64()))
            case 5 where isSum:
                try reader.expect(wire, .lengthDelimited, field: field)
                exemplarReaders.append(try reader.readMessage())
            case 8:
                try reader.expect(wire, .varint, field: field)
                flags = try reader.readVarint()
            default:
                try reader.skip(wire)
            }
        }
        if let problem = timestampProblem(timeNs) {
            result.reject(problem)
            return
        }
        resource.note(timeNs: timeNs)
        let key = pointKey(metric.seed)
        var labels = OTLPPointLabels()
        var deltaUpdate: DeltaUpdate?
        if flags & 1 != 0 {
            value = StaleMarker.value
        } else if metric.isDelta {
            guard value.isFinite else {
                result.reject("delta point with a value that is not finite")
                return
            }
            let increment = value
            let outcome = try accumulateDelta(&labels, metric, resource, scope, startNs: startNs, timeNs: timeNs) { previous in
                guard let previous else {
                    return .success(OTLPDeltaStore.Stream(lastTimeNs: timeNs, startTimeNs: startNs != 0 ? startNs : timeNs, value: increment))
                }
                guard previous.buckets == nil else { return .failure(.incompatible) }
                var next = previous
                next.value += increment
                next.lastTimeNs = timeNs
                return .success(next)
            }
            guard let update = outcome else { return }
            deltaUpdate = update
            value = update.new.value
        }
        let timestampMs = Int64(truncatingIfNeeded: timeNs / 1_000_000)
        guard let ref = try appendSample(key, &labels, metric, resource, scope, name: metric.name, extra: nil, timestampMs: timestampMs, value: value) else {
            if let deltaUpdate { undo(deltaUpdate) }
            result.reject(labels.rejection ?? "sample rejected")
            return
        }
        for exemplar in exemplarReaders { try appendExemplar(exemplar, to: ref, pointTimestampMs: timestampMs) }
    }

    // MARK: - Histograms

    /// A `HistogramDataPoint` (attributes 9, start 2, time 3, count 4, sum 5, bucket_counts 6,
    /// explicit_bounds 7, exemplars 8, flags 10): `_sum` (when set), `_count` and cumulative
    /// `_bucket` series with `le` bounds, `+Inf` being the count.
    mutating func histogramPoint(_ message: ProtoReader, _ metric: inout OTLPMetricContext, _ resource: inout OTLPResourceContext, _ scope: OTLPScopeContext) throws {
        attributeEntries.removeAll(keepingCapacity: true)
        exemplarReaders.removeAll(keepingCapacity: true)
        var reader = message
        var timeNs: UInt64 = 0
        var startNs: UInt64 = 0
        var flags: UInt64 = 0
        var buckets = OTLPBuckets(bounds: [], counts: [], sum: nil, count: 0)
        while !reader.isAtEnd {
            let entryStart = reader.offset
            let (field, wire) = try reader.readTag()
            switch field {
            case 9:
                try reader.expect(wire, .lengthDelimited, field: field)
                let entry = try reader.readMessage()
                attributeEntries.append((entry, reader.bytes(entryStart..<reader.offset)))
            case 2:
                try reader.expect(wire, .fixed64, field: field)
                startNs = try reader.readFixed64()
            case 3:
                try reader.expect(wire, .fixed64, field: field)
                timeNs = try reader.readFixed64()
            case 4:
                try reader.expect(wire, .fixed64, field: field)
                buckets.count = Double(try reader.readFixed64())
            case 5:
                try reader.expect(wire, .fixed64, field: field)
                buckets.sum = try reader.readDouble()
            case 6:
                try reader.readRepeated(wire, element: .fixed64) { r throws(IngestError) in buckets.counts.append(Double(try r.readFixed64())) }
            case 7:
                try reader.readRepeated(wire, element: .fixed64) { r throws(IngestError) in buckets.bounds.append(try r.readDouble()) }
            case 8:
                try reader.expect(wire, .lengthDelimited, field: field)
                exemplarReaders.append(try reader.readMessage())
            case 10:
                try reader.expect(wire, .varint, field: field)
                flags = try reader.readVarint()
            default:
                try reader.skip(wire)
            }
        }
        guard buckets.bounds.count <= limits.bucketLimit else {
            result.reject("histogram point with more than \(limits.bucketLimit) buckets")
            return
        }
        // As Prometheus: only as many buckets as there are both bounds and counts.
        let usable = min(buckets.bounds.count, buckets.counts.count)
        buckets.bounds.removeLast(buckets.bounds.count - usable)
        buckets.counts.removeLast(buckets.counts.count - usable)
        // An explicit +Inf bound is the +Inf bucket, which is the point's count.
        while buckets.bounds.last == .infinity {
            buckets.bounds.removeLast()
            buckets.counts.removeLast()
        }
        for index in buckets.bounds.indices where buckets.bounds[index].isNaN || (index > 0 && buckets.bounds[index] <= buckets.bounds[index - 1]) {
            result.reject("explicit_bounds of a histogram point are not increasing")
            return
        }
        try storeHistogram(buckets, timeNs: timeNs, startNs: startNs, flags: flags, &metric, &resource, scope)
    }

    /// An `ExponentialHistogramDataPoint` (attributes 1, start 2, time 3, count 4, sum 5,
    /// scale 6, zero_count 7, positive 8, negative 9, flags 10, exemplars 11, zero_threshold 14).
    /// Osprey's engine keeps no native histograms yet, so it becomes a classic histogram with
    /// power-of-two bounds (the exponential buckets merged to scale 0; coarser scales keep their
    /// own powers of two): the series stay the same whatever scale the client picks.
    mutating func exponentialHistogramPoint(_ message: ProtoReader, _ metric: inout OTLPMetricContext, _ resource: inout OTLPResourceContext, _ scope: OTLPScopeContext) throws {
        attributeEntries.removeAll(keepingCapacity: true)
        exemplarReaders.removeAll(keepingCapacity: true)
        var reader = message
        var timeNs: UInt64 = 0
        var startNs: UInt64 = 0
        var flags: UInt64 = 0
        var count = 0.0
        var sum: Double?
        var scale: Int64 = 0
        var zeroCount = 0.0
        var zeroThreshold = 0.0
        var positive: (offset: Int64, counts: [Double]) = (0, [])
        var negative: (offset: Int64, counts: [Double]) = (0, [])
        while !reader.isAtEnd {
            let entryStart = reader.offset
            let (field, wire) = try reader.readTag()
            switch field {
            case 1:
                try reader.expect(wire, .lengthDelimited, field: field)
                let entry = try reader.readMessage()
                attributeEntries.append((entry, reader.bytes(entryStart..<reader.offset)))
            case 2:
                try reader.expect(wire, .fixed64, field: field)
                startNs = try reader.readFixed64()
            case 3:
                try reader.expect(wire, .fixed64, field: field)
                timeNs = try reader.readFixed64()
            case 4:
                try reader.expect(wire, .fixed64, field: field)
                count = Double(try reader.readFixed64())
            case 5:
                try reader.expect(wire, .fixed64, field: field)
                sum = try reader.readDouble()
            case 6:
                try reader.expect(wire, .varint, field: field)
                scale = Int64(try reader.readSignedVarint32())
            case 7:
                try reader.expect(wire, .fixed64, field: field)
                zeroCount = Double(try reader.readFixed64())
            case 8, 9:
                try reader.expect(wire, .lengthDelimited, field: field)
                var bucketsReader = try reader.readMessage()
                let decoded = try Self.exponentialBuckets(&bucketsReader)
                if field == 8 { positive = decoded } else { negative = decoded }
            case 10:
                try reader.expect(wire, .varint, field: field)
                flags = try reader.readVarint()
            case 11:
                try reader.expect(wire, .lengthDelimited, field: field)
                exemplarReaders.append(try reader.readMessage())
            case 14:
                try reader.expect(wire, .fixed64, field: field)
                zeroThreshold = try reader.readDouble()
            default:
                try reader.skip(wire)
            }
        }
        guard positive.counts.count <= limits.bucketLimit, negative.counts.count <= limits.bucketLimit else {
            result.reject("exponential histogram point with more than \(limits.bucketLimit) buckets on a side")
            return
        }
        // OTLP defines scales from -10 to 20.
        guard (-10...20).contains(scale) else {
            result.reject("exponential histogram scale \(scale) outside -10…20")
            return
        }
        let buckets = OTLPExponentialConversion.classic(
            scale: Int(scale), positive: positive, negative: negative, zeroCount: zeroCount,
            zeroThreshold: zeroThreshold, sum: sum, count: count)
        try storeHistogram(buckets, timeNs: timeNs, startNs: startNs, flags: flags, &metric, &resource, scope)
    }

    /// `Buckets`: offset 1 (sint32), bucket_counts 2 (packed uint64).
    private static func exponentialBuckets(_ reader: inout ProtoReader) throws -> (offset: Int64, counts: [Double]) {
        var offset: Int64 = 0
        var counts: [Double] = []
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            switch field {
            case 1:
                try reader.expect(wire, .varint, field: field)
                offset = Int64(try reader.readSignedVarint32())
            case 2:
                try reader.readRepeated(wire, element: .varint) { r throws(IngestError) in counts.append(Double(try r.readVarint())) }
            default:
                try reader.skip(wire)
            }
        }
        return (offset, counts)
    }

    /// Stores a histogram point in classic form (delta points added to their stream first).
    private mutating func storeHistogram(
        _ point: OTLPBuckets, timeNs: UInt64, startNs: UInt64, flags: UInt64,
        _ metric: inout OTLPMetricContext, _ resource: inout OTLPResourceContext, _ scope: OTLPScopeContext
    ) throws {
        if let problem = timestampProblem(timeNs) {
            result.reject(problem)
            return
        }
        resource.note(timeNs: timeNs)
        let key = pointKey(metric.seed)
        let stale = flags & 1 != 0
        var buckets = point
        var labels = OTLPPointLabels()
        var deltaUpdate: DeltaUpdate?
        if metric.isDelta && !stale {
            guard point.count.isFinite, point.sum?.isFinite ?? true else {
                result.reject("delta point with a value that is not finite")
                return
            }
            let outcome = try accumulateDelta(&labels, metric, resource, scope, startNs: startNs, timeNs: timeNs) { previous in
                guard let previous else {
                    return .success(OTLPDeltaStore.Stream(lastTimeNs: timeNs, startTimeNs: startNs != 0 ? startNs : timeNs, buckets: point))
                }
                guard let total = previous.buckets else { return .failure(.incompatible) }
                var next = previous
                next.buckets = total.adding(point)
                next.lastTimeNs = timeNs
                return .success(next)
            }
            guard let update = outcome, let total = update.new.buckets else { return }
            deltaUpdate = update
            buckets = total
        }
        let timestampMs = Int64(truncatingIfNeeded: timeNs / 1_000_000)
        let staleValue = StaleMarker.value
        var failed = false
        var anyStored = false
        if let sum = buckets.sum {
            let stored = try appendSample(key.extended(with: 1), &labels, metric, resource, scope, name: metric.name + "_sum", extra: nil, timestampMs: timestampMs, value: stale ? staleValue : sum)
            failed = failed || stored == nil
            anyStored = anyStored || stored != nil
        }
        let countStored = try appendSample(key.extended(with: 2), &labels, metric, resource, scope, name: metric.name + "_count", extra: nil, timestampMs: timestampMs, value: stale ? staleValue : buckets.count)
        failed = failed || countStored == nil
        anyStored = anyStored || countStored != nil
        let bucketName = metric.name + "_bucket"
        var cumulative = 0.0
        var nextExemplar = 0
        let exemplarValues = try exemplarReaders.map { try Self.exemplarValue($0) }
        for (index, bound) in buckets.bounds.enumerated() {
            cumulative += buckets.counts[index]
            let ref = try appendSample(
                key.extended(with: 4).extended(with: bound.bitPattern), &labels, metric, resource, scope,
                name: bucketName, extra: Label(name: "le", value: GoFloatFormat.f(bound)), timestampMs: timestampMs, value: stale ? staleValue : cumulative)
            failed = failed || ref == nil
            anyStored = anyStored || ref != nil
            while nextExemplar < exemplarReaders.count, let value = exemplarValues[nextExemplar], value <= bound {
                if let ref { try appendExemplar(exemplarReaders[nextExemplar], to: ref, pointTimestampMs: timestampMs) }
                nextExemplar += 1
            }
        }
        let infinity = try appendSample(
            key.extended(with: 3), &labels, metric, resource, scope,
            name: bucketName, extra: Label(name: "le", value: "+Inf"), timestampMs: timestampMs, value: stale ? staleValue : buckets.count)
        failed = failed || infinity == nil
        anyStored = anyStored || infinity != nil
        if let infinity {
            while nextExemplar < exemplarReaders.count {
                try appendExemplar(exemplarReaders[nextExemplar], to: infinity, pointTimestampMs: timestampMs)
                nextExemplar += 1
            }
        }
        if failed {
            // A histogram partly stored keeps its total: its stored series moved on.
            if let deltaUpdate, !anyStored { undo(deltaUpdate) }
            result.reject(labels.rejection ?? "sample rejected")
        }
    }

    /// An exemplar's value without decoding the rest (nil when it has none).
    private static func exemplarValue(_ message: ProtoReader) throws -> Double? {
        var reader = message
        var value: Double?
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            switch field {
            case 3:
                try reader.expect(wire, .fixed64, field: field)
                value = try reader.readDouble()
            case 6:
                try reader.expect(wire, .fixed64, field: field)
                value = Double(Int64(bitPattern: try reader.readFixed64()))
            default: try reader.skip(wire)
            }
        }
        return value
    }

    // MARK: - Summary

    /// A `SummaryDataPoint` (attributes 7, start 2, time 3, count 4, sum 5, quantile_values 6,
    /// flags 8): `_sum`, `_count` and one series per quantile.
    mutating func summaryPoint(_ message: ProtoReader, _ metric: inout OTLPMetricContext, _ resource: inout OTLPResourceContext, _ scope: OTLPScopeContext) throws {
        attributeEntries.removeAll(keepingCapacity: true)
        var reader = message
        var timeNs: UInt64 = 0
        var flags: UInt64 = 0
        var count = 0.0
        var sum = 0.0
        var quantiles: [(quantile: Double, value: Double)] = []
        while !reader.isAtEnd {
            let entryStart = reader.offset
            let (field, wire) = try reader.readTag()
            switch field {
            case 7:
                try reader.expect(wire, .lengthDelimited, field: field)
                let entry = try reader.readMessage()
                attributeEntries.append((entry, reader.bytes(entryStart..<reader.offset)))
            case 3:
                try reader.expect(wire, .fixed64, field: field)
                timeNs = try reader.readFixed64()
            case 4:
                try reader.expect(wire, .fixed64, field: field)
                count = Double(try reader.readFixed64())
            case 5:
                try reader.expect(wire, .fixed64, field: field)
                sum = try reader.readDouble()
            case 6:
                try reader.expect(wire, .lengthDelimited, field: field)
                var entry = try reader.readMessage()
                var quantile = 0.0
                var value = 0.0
                while !entry.isAtEnd {
                    let (entryField, entryWire) = try entry.readTag()
                    switch entryField {
                    case 1:
                        try entry.expect(entryWire, .fixed64, field: entryField)
                        quantile = try entry.readDouble()
                    case 2:
                        try entry.expect(entryWire, .fixed64, field: entryField)
                        value = try entry.readDouble()
                    default:
                        try entry.skip(entryWire)
                    }
                }
                quantiles.append((quantile, value))
            case 8:
                try reader.expect(wire, .varint, field: field)
                flags = try reader.readVarint()
            default:
                try reader.skip(wire)
            }
        }
        if let problem = timestampProblem(timeNs) {
            result.reject(problem)
            return
        }
        resource.note(timeNs: timeNs)
        let key = pointKey(metric.seed)
        let stale = flags & 1 != 0
        let staleValue = StaleMarker.value
        let timestampMs = Int64(truncatingIfNeeded: timeNs / 1_000_000)
        var labels = OTLPPointLabels()
        var failed = false
        let sumRef = try appendSample(key.extended(with: 1), &labels, metric, resource, scope, name: metric.name + "_sum", extra: nil, timestampMs: timestampMs, value: stale ? staleValue : sum)
        let countRef = try appendSample(key.extended(with: 2), &labels, metric, resource, scope, name: metric.name + "_count", extra: nil, timestampMs: timestampMs, value: stale ? staleValue : count)
        failed = sumRef == nil || countRef == nil
        for (quantile, value) in quantiles {
            let ref = try appendSample(
                key.extended(with: 5).extended(with: quantile.bitPattern), &labels, metric, resource, scope,
                name: metric.name, extra: Label(name: "quantile", value: GoFloatFormat.f(quantile)), timestampMs: timestampMs, value: stale ? staleValue : value)
            failed = failed || ref == nil
        }
        if failed { result.reject(labels.rejection ?? "sample rejected") }
    }

    // MARK: - Delta streams

    /// An applied delta update, to undo if its point is not stored after all.
    struct DeltaUpdate {
        var key: Fingerprint
        var previous: OTLPDeltaStore.Stream?
        var new: OTLPDeltaStore.Stream
    }

    /// Adds the current point to its delta stream, identified by the Prometheus series it
    /// feeds (metric name and labels, whatever the order or types of the attributes). Returns
    /// nil when the point is rejected (and counted).
    mutating func accumulateDelta(
        _ labels: inout OTLPPointLabels, _ metric: OTLPMetricContext, _ resource: OTLPResourceContext, _ scope: OTLPScopeContext,
        startNs: UInt64, timeNs: UInt64, _ update: (OTLPDeltaStore.Stream?) -> Result<OTLPDeltaStore.Stream, OTLPDeltaStore.Refusal>
    ) throws -> DeltaUpdate? {
        guard let series = try seriesLabels(&labels, resource, scope, name: metric.name, extra: nil) else {
            result.reject(labels.rejection ?? "invalid labels")
            return nil
        }
        scratch.removeAll(keepingCapacity: true)
        series.appendSortKey(to: &scratch)
        let key = scratch.withUnsafeBytes { SeriesRefCache.fingerprint($0) }
        switch deltas.accumulate(key, startNs: startNs, timeNs: timeNs, nowNs: nowNs, update) {
        case .success(let (new, previous)):
            let applied = DeltaUpdate(key: key, previous: previous, new: new)
            deltaUpdates.append(applied)
            return applied
        case .failure(let refusal):
            result.reject(refusal.message)
            return nil
        }
    }

    /// Takes back one delta update (its point was not stored).
    mutating func undo(_ update: DeltaUpdate) {
        deltas.undo(update.key, to: update.previous, ifStill: update.new)
        if let index = deltaUpdates.lastIndex(where: { $0.key == update.key && $0.new == update.new }) { deltaUpdates.remove(at: index) }
    }
}
