package import OspreyModel
import OspreyStorage

/// A data point's labels, built only when one of its series is not known yet.
struct OTLPPointLabels {
    /// Attributes, promoted resource attributes, job/instance and scope labels; no `__name__`.
    var base: [Label]?
    /// Why the point (or one of its series) was not stored.
    var rejection: String?
}

extension OTLPMetricsTranslation {
    static let maxFutureMs: Int64 = 10 * 60 * 1000

    /// Fingerprint of the point's identity: the metric's seed and the raw attribute entries.
    mutating func pointKey(_ seed: Fingerprint) -> Fingerprint {
        scratch.removeAll(keepingCapacity: true)
        withUnsafeBytes(of: seed.high.littleEndian) { scratch.append(contentsOf: $0) }
        withUnsafeBytes(of: seed.low.littleEndian) { scratch.append(contentsOf: $0) }
        for entry in attributeEntries { scratch.append(contentsOf: entry.raw) }
        return scratch.withUnsafeBytes { SeriesRefCache.fingerprint($0) }
    }

    /// Why a point's timestamp cannot be stored, if it cannot.
    func timestampProblem(_ timeNs: UInt64) -> String? {
        if timeNs == 0 { return "data point without time_unix_nano" }
        if Int64(truncatingIfNeeded: timeNs / 1_000_000) > Int64(truncatingIfNeeded: nowNs / 1_000_000) + Self.maxFutureMs {
            return "timestamp too far in the future"
        }
        return nil
    }

    /// Appends one sample to the series `key` of the current point: by reference when the
    /// series is known, else with labels built from the point. Returns nil when the sample was
    /// rejected (the reason is in `labels.rejection`); throws when the storage fails.
    mutating func appendSample(
        _ key: Fingerprint, _ labels: inout OTLPPointLabels, _ metric: OTLPMetricContext,
        _ resource: OTLPResourceContext, _ scope: OTLPScopeContext,
        name: String, extra: Label?, timestampMs: Int64, value: Double
    ) throws -> SeriesRef? {
        if let cached = cache.ref(for: key) {
            do {
                let ref = try appender.append(cached, labels: .empty, timestampMs: timestampMs, value: value)
                result.samplesWritten += 1
                return ref
            } catch where error.code == .unknownSeriesRef {
                // The series left the storage: store it again with its labels.
            } catch {
                try reject(error, name: name, timestampMs: timestampMs, &labels)
                return nil
            }
        }
        guard let series = try seriesLabels(&labels, resource, scope, name: name, extra: extra) else { return nil }
        do {
            let ref = try appender.append(nil, labels: series, timestampMs: timestampMs, value: value)
            result.samplesWritten += 1
            learned.append((key, ref))
            _ = try? appender.updateMetadata(ref, labels: series, metadata: metric.metadata)
            return ref
        } catch {
            try reject(error, name: name, timestampMs: timestampMs, &labels)
            return nil
        }
    }

    /// Records a sample the storage refused; storage failures are rethrown.
    private func reject(_ error: StorageError, name: String, timestampMs: Int64, _ labels: inout OTLPPointLabels) throws {
        switch error.code {
        case .io, .unavailable, .canceled: throw error
        default:
            if labels.rejection == nil { labels.rejection = "\(error.code.rawValue) for a series of \(name) at timestamp \(timestampMs)" }
        }
    }

    /// The full label set of one series of the current point; nil (and a rejection) when the
    /// point's attributes break a limit.
    mutating func seriesLabels(
        _ labels: inout OTLPPointLabels, _ resource: OTLPResourceContext, _ scope: OTLPScopeContext, name: String, extra: Label?
    ) throws -> Labels? {
        if labels.base == nil && labels.rejection == nil {
            labels.base = try baseLabels(resource, scope, &labels.rejection)
        }
        guard var series = labels.base else { return nil }
        series.removeAll { $0.name == Labels.metricNameLabel || $0.name == extra?.name }
        series.append(Label(name: Labels.metricNameLabel, value: name))
        if let extra { series.append(extra) }
        guard series.count <= limits.labelLimit else {
            labels.rejection = "\(series.count) labels, more than the limit of \(limits.labelLimit)"
            return nil
        }
        return Labels(sorting: series)
    }

    /// The point's attributes merged with what the resource and scope contribute, in
    /// Prometheus' order: attributes, promoted resource attributes where absent, job and
    /// instance, scope labels.
    private mutating func baseLabels(_ resource: OTLPResourceContext, _ scope: OTLPScopeContext, _ rejection: inout String?) throws -> [Label]? {
        guard attributeEntries.count <= limits.attributeCountLimit else {
            rejection = "\(attributeEntries.count) attributes, more than the limit of \(limits.attributeCountLimit)"
            return nil
        }
        var attributes: [OTLPAttributes.Attribute] = []
        attributes.reserveCapacity(attributeEntries.count)
        for entry in attributeEntries {
            var reader = entry.reader
            let attribute = try OTLPAttributes.keyValue(&reader)
            if attribute.key.utf8.count > limits.attributeKeyLengthLimit {
                rejection = "attribute key \"\(attribute.key.prefix(64))…\" longer than \(limits.attributeKeyLengthLimit) bytes"
                return nil
            }
            if attribute.value.utf8.count > limits.attributeValueLengthLimit {
                rejection = "value of attribute \"\(attribute.key)\" longer than \(limits.attributeValueLengthLimit) bytes"
                return nil
            }
            attributes.append(attribute)
        }
        var labels: [Label]
        do {
            labels = try OTLPLabelMerger.merge(attributes, namer: namer)
        } catch {
            rejection = error.message
            return nil
        }
        OTLPLabelMerger.addMissing(&labels, from: resource.promoted)
        OTLPLabelMerger.override(&labels, with: resource.identifying)
        OTLPLabelMerger.override(&labels, with: scope.labels)
        return labels
    }

    /// Attaches an `Exemplar` message to a stored series (at the point's time when it has none);
    /// exemplars the storage refuses are skipped.
    mutating func appendExemplar(_ message: ProtoReader, to ref: SeriesRef, pointTimestampMs: Int64) throws {
        guard var exemplar = try Self.exemplar(message) else { return }
        if exemplar.timestampMs == nil { exemplar.timestampMs = pointTimestampMs }
        do {
            _ = try appender.appendExemplar(ref, labels: .empty, exemplar: exemplar)
            result.exemplarsWritten += 1
        } catch {
            if error.code == .io || error.code == .unavailable { throw error }
        }
    }

    /// Decodes an `Exemplar`: `trace_id` and `span_id` in lowercase hex, filtered attributes
    /// with their keys as they are when all labels fit in 128 characters (Prometheus' limit).
    static func exemplar(_ message: ProtoReader) throws -> Exemplar? {
        var reader = message
        var value: Double?
        var timeNs: UInt64 = 0
        var traceID: [UInt8] = []
        var spanID: [UInt8] = []
        var attributes: [OTLPAttributes.Attribute] = []
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            switch field {
            case 2:
                try reader.expect(wire, .fixed64, field: field)
                timeNs = try reader.readFixed64()
            case 3:
                try reader.expect(wire, .fixed64, field: field)
                value = try reader.readDouble()
            case 6:
                try reader.expect(wire, .fixed64, field: field)
                value = Double(Int64(bitPattern: try reader.readFixed64()))
            case 4:
                try reader.expect(wire, .lengthDelimited, field: field)
                spanID = Array(reader.bytes(try reader.readLengthDelimitedRange()))
            case 5:
                try reader.expect(wire, .lengthDelimited, field: field)
                traceID = Array(reader.bytes(try reader.readLengthDelimitedRange()))
            case 7:
                try reader.expect(wire, .lengthDelimited, field: field)
                var entry = try reader.readMessage()
                attributes.append(try OTLPAttributes.keyValue(&entry))
            default:
                try reader.skip(wire)
            }
        }
        guard let value else { return nil }
        var labels: [Label] = []
        if !traceID.isEmpty { labels.append(Label(name: "trace_id", value: hex(traceID))) }
        if !spanID.isEmpty { labels.append(Label(name: "span_id", value: hex(spanID))) }
        var runes = labels.reduce(0) { $0 + $1.name.unicodeScalars.count + $1.value.unicodeScalars.count }
        var withAttributes = labels
        for attribute in attributes where !attribute.value.isEmpty {
            runes += attribute.key.unicodeScalars.count + attribute.value.unicodeScalars.count
            withAttributes.append(Label(name: attribute.key, value: attribute.value))
        }
        if runes <= 128 { labels = withAttributes }
        let timestampMs = Int64(truncatingIfNeeded: timeNs / 1_000_000)
        return Exemplar(labels: Labels(sorting: labels), value: value, timestampMs: timestampMs != 0 ? timestampMs : nil)
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Most `target_info` samples per resource and request: a request whose points span more
    /// than this many half lookbacks gets them for the newest part only.
    static let maxTargetInfoSamples = 24

    /// `target_info` for a resource: value 1 every half lookback delta from the resource's
    /// earliest to its latest accepted point, and at the latest (at most
    /// ``maxTargetInfoSamples``, the newest). Samples the storage refuses (an overlap with an
    /// earlier request) are skipped; storage failures are rethrown.
    mutating func appendTargetInfo(_ resource: OTLPResourceContext) throws {
        guard let base = resource.targetInfo else { return }
        scratch.removeAll(keepingCapacity: true)
        OTLPLabelMerger.appendKey(base, to: &scratch)
        scratch.append(contentsOf: "\u{FF}target_info".utf8)
        let key = scratch.withUnsafeBytes { SeriesRefCache.fingerprint($0) }
        let interval = options.lookbackDeltaMs > 1 ? options.lookbackDeltaMs / 2 : 150_000
        // Prometheus' grid: the earliest point, then every interval while before the latest, then
        // the latest; only the newest samples of it are written.
        var timestamps: [Int64] = []
        if resource.maxTimeMs > resource.minTimeMs {
            var step = (resource.maxTimeMs - resource.minTimeMs - 1) / interval
            while step >= 0 && timestamps.count < Self.maxTargetInfoSamples - 1 {
                timestamps.append(resource.minTimeMs + step * interval)
                step -= 1
            }
        }
        timestamps.reverse()
        timestamps.append(resource.maxTimeMs)
        var ref = cache.ref(for: key)
        let labels = Labels(sorting: base + [Label(name: Labels.metricNameLabel, value: "target_info")])
        for timestamp in timestamps {
            do {
                if let known = ref {
                    do {
                        ref = try appender.append(known, labels: .empty, timestampMs: timestamp, value: 1)
                        continue
                    } catch where error.code == .unknownSeriesRef {}
                }
                let stored = try appender.append(nil, labels: labels, timestampMs: timestamp, value: 1)
                if ref == nil || ref != stored {
                    learned.append((key, stored))
                    _ = try? appender.updateMetadata(stored, labels: labels, metadata: MetricMetadata(type: .gauge, help: "Target metadata"))
                }
                ref = stored
            } catch {
                if error.code == .io || error.code == .unavailable || error.code == .canceled { throw error }
            }
        }
    }
}

extension OTLPResourceContext {
    /// Widens the time range of the resource's points.
    mutating func note(timeNs: UInt64) {
        guard timeNs != 0 else { return }
        let ms = Int64(truncatingIfNeeded: timeNs / 1_000_000)
        minTimeMs = min(minTimeMs, ms)
        maxTimeMs = max(maxTimeMs, ms)
    }
}

/// Pieces of the metrics translation that are useful on their own.
package enum OTLPMetricsDecoding {
    /// Decodes a protobuf `Exemplar` message as the translator stores it.
    package static func exemplar(_ bytes: UnsafeRawBufferPointer) throws -> Exemplar? {
        try OTLPMetricsTranslation.exemplar(ProtoReader(bytes))
    }
}
