package import OspreyModel
package import OspreyStorage

/// Limits on what one remote-write request may contain.
package struct RemoteWriteLimits: Hashable, Sendable {
    /// Longest label name in bytes.
    package var labelNameLengthLimit = 1024
    /// Longest label value in bytes.
    package var labelValueLengthLimit = 64 * 1024
    /// Most labels per series.
    package var labelLimit = 512

    /// Default limits.
    package init() {}
}

/// What an ingested request stored and what it rejected.
package struct RemoteWriteResult: Hashable, Sendable {
    /// Float samples stored.
    package var samplesWritten = 0
    /// Histogram samples stored.
    package var histogramsWritten = 0
    /// Exemplars stored.
    package var exemplarsWritten = 0
    /// Rejected samples per reason (e.g. "out of order sample").
    package var rejected: [String: Int] = [:]
    /// The first rejection, with its series and timestamp.
    package var firstRejection: String?

    /// A message for the client when samples were rejected, nil otherwise.
    package var rejectionSummary: String? {
        guard !rejected.isEmpty else { return nil }
        let total = rejected.values.reduce(0, +)
        let reasons = rejected.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        return "\(total) samples rejected (\(reasons)); first: \(firstRejection ?? "")"
    }

    /// Creates an empty result.
    package init() {}
}

/// Applies a decoded remote-write request to a ``MetricAppender`` with Prometheus 3's receiver
/// semantics: invalid series reject the whole request (nothing applied); out-of-order,
/// duplicate and too-old samples are skipped and counted while the rest is committed.
package struct RemoteWriteIngester: Sendable {
    /// Request limits.
    package let limits: RemoteWriteLimits
    /// Which names are valid.
    package let nameValidation: NameValidationScheme

    /// Creates an ingester.
    package init(limits: RemoteWriteLimits = RemoteWriteLimits(), nameValidation: NameValidationScheme = .utf8) {
        self.limits = limits
        self.nameValidation = nameValidation
    }

    /// Thrown when a cached series reference is no longer known to the storage: nothing was
    /// applied, the cache was cleared; decode the body again without the cache and retry.
    package struct StaleCacheError: Error {}

    /// Validates, appends and commits `request`. Throws ``IngestError`` for invalid input (and
    /// appends nothing) and `StorageError` when the engine fails (after rolling back). Series
    /// carrying a ``RemoteTimeSeries/cacheKey`` are remembered in `cache` once committed.
    package func ingest(_ request: RemoteWriteRequest, into appender: any MetricAppender, cache: SeriesRefCache? = nil) async throws -> RemoteWriteResult {
        var series: [Labels] = []
        series.reserveCapacity(request.timeseries.count)
        for index in request.timeseries.indices {
            // A cached series was validated when it was first stored.
            let labels = request.timeseries[index].cachedRef == nil ? try validate(request.timeseries[index].labels, index: index) : .empty
            series.append(labels)
        }
        var metadataByFamily: [String: MetricMetadata] = [:]
        for entry in request.metadata where !entry.metricFamilyName.isEmpty {
            metadataByFamily[entry.metricFamilyName] = entry.metadata
        }
        var result = RemoteWriteResult()
        var learned: [([UInt8], SeriesRef)] = []
        do {
            for index in request.timeseries.indices {
                let ref = try append(request.timeseries[index], labels: series[index], metadataByFamily, appender, &result)
                if cache != nil, let key = request.timeseries[index].cacheKey, let ref { learned.append((key, ref)) }
            }
        } catch where error.code == .unknownSeriesRef {
            appender.rollback()
            cache?.removeAll()
            throw StaleCacheError()
        } catch {
            appender.rollback()
            throw error
        }
        _ = try await appender.commit()
        if let cache {
            for (key, ref) in learned { cache.insert(key, ref) }
        }
        return result
    }

    private func append(
        _ entry: borrowing RemoteTimeSeries, labels: Labels, _ metadataByFamily: [String: MetricMetadata],
        _ appender: any MetricAppender, _ result: inout RemoteWriteResult
    ) throws(StorageError) -> SeriesRef? {
        var ref: SeriesRef? = entry.cachedRef
        if let start = entry.startTimestampMs,
           let firstTimestampMs = entry.sampleList.first?.timestampMs ?? entry.histograms.first?.timestampMs,
           let stored = try tolerant(labels, start, &result, { () throws(StorageError) in
               try appender.appendStartTimestamp(ref, labels: labels, startTimestampMs: start, timestampMs: firstTimestampMs)
           })
        {
            ref = stored
        }
        switch entry.sampleList {
        case .empty:
            break
        case .one(let sample):
            ref = try appendSample(sample, ref, labels, appender, &result)
        case .many(let list):
            for sample in list { ref = try appendSample(sample, ref, labels, appender, &result) }
        }
        for histogram in entry.histograms {
            if let stored = try tolerant(labels, histogram.timestampMs, &result, { () throws(StorageError) in
                try appender.appendHistogram(ref, labels: labels, timestampMs: histogram.timestampMs, histogram: histogram.histogram)
            }) {
                ref = stored
                result.histogramsWritten += 1
            }
        }
        for exemplar in entry.exemplars {
            ref = try appender.appendExemplar(ref, labels: labels, exemplar: exemplar)
            result.exemplarsWritten += 1
        }
        if let metadata = entry.metadata ?? familyMetadata(labels, metadataByFamily) {
            ref = try appender.updateMetadata(ref, labels: labels, metadata: metadata)
        }
        return ref
    }

    private func appendSample(
        _ sample: Sample, _ ref: SeriesRef?, _ labels: Labels, _ appender: any MetricAppender, _ result: inout RemoteWriteResult
    ) throws(StorageError) -> SeriesRef? {
        guard let stored = try tolerant(labels, sample.timestampMs, &result, { () throws(StorageError) in
            try appender.append(ref, labels: labels, timestampMs: sample.timestampMs, value: sample.value)
        }) else { return ref }
        result.samplesWritten += 1
        return stored
    }

    /// Runs one append; sample-level rejections are counted and return nil, others rethrow.
    private func tolerant(
        _ labels: Labels, _ timestampMs: Int64, _ result: inout RemoteWriteResult, _ body: () throws(StorageError) -> SeriesRef
    ) throws(StorageError) -> SeriesRef? {
        do {
            return try body()
        } catch {
            switch error.code {
            case .outOfOrderSample, .duplicateSampleForTimestamp, .outOfBounds, .tooOldSample:
                result.rejected[error.code.rawValue, default: 0] += 1
                if result.firstRejection == nil {
                    // Series the connection sent before are appended by reference, without labels.
                    let series = labels.isEmpty ? "a series sent earlier on this connection" : "series \(labels)"
                    result.firstRejection = "\(error.code.rawValue) for \(series) at timestamp \(timestampMs)"
                }
                return nil
            default:
                throw error
            }
        }
    }

    private func familyMetadata(_ labels: Labels, _ byFamily: [String: MetricMetadata]) -> MetricMetadata? {
        guard !byFamily.isEmpty, let name = labels.metricName else { return nil }
        if let exact = byFamily[name] { return exact }
        for suffix in ["_total", "_bucket", "_sum", "_count", "_created", "_info"] where name.hasSuffix(suffix) {
            if let found = byFamily[String(name.dropLast(suffix.count))] { return found }
        }
        return nil
    }

    private func validate(_ labels: Labels, index: Int) throws(IngestError) -> Labels {
        guard labels.count <= limits.labelLimit else {
            throw IngestError(code: .badRequest, message: "series \(index) \(labels) has \(labels.count) labels, more than the limit of \(limits.labelLimit)")
        }
        // One pass over the labels: lengths, empty names and values, duplicates, name syntax.
        var hasEmptyValue = false
        var previousName: String?
        for label in labels {
            guard label.name.utf8.count <= limits.labelNameLengthLimit else {
                throw IngestError(code: .badRequest, message: "label name \"\(label.name.prefix(64))…\" of series \(index) is longer than \(limits.labelNameLengthLimit) bytes")
            }
            guard label.value.utf8.count <= limits.labelValueLengthLimit else {
                throw IngestError(code: .badRequest, message: "value of label \"\(label.name)\" of series \(index) is longer than \(limits.labelValueLengthLimit) bytes")
            }
            if label.name == previousName {
                throw IngestError(code: .badRequest, message: "duplicate label name \"\(label.name)\" in series \(index) \(labels)")
            }
            previousName = label.name
            let valid = label.name == Labels.metricNameLabel
                ? nameValidation.isValidMetricName(label.value) || label.value.isEmpty
                : nameValidation.isValidLabelName(label.name)
            guard valid else {
                let what = label.name == Labels.metricNameLabel ? "metric name \"\(label.value)\"" : "label name \"\(label.name)\""
                throw IngestError(code: .badRequest, message: "invalid \(what) in series \(index) \(labels)")
            }
            hasEmptyValue = hasEmptyValue || label.value.isEmpty
        }
        let cleaned = hasEmptyValue ? Labels(sortedUnchecked: labels.filter { !$0.value.isEmpty }) : labels
        guard !cleaned.isEmpty else {
            throw IngestError(code: .badRequest, message: "series \(index) has no labels")
        }
        return cleaned
    }
}
