import OspreyModel
import OspreyStorage

/// One request's translation: walks the protobuf bytes of an `ExportMetricsServiceRequest`
/// (field numbers from opentelemetry-proto v1.9.0 `metrics.proto`) and appends as it goes.
/// A series seen before is found by the fingerprint of its point's identity (resource, scope,
/// metric name and the raw attribute bytes) and appended by reference; its labels are only
/// built the first time.
struct OTLPMetricsTranslation {
    typealias Fingerprint = SeriesRefCache.Fingerprint

    let options: OTLPOptions
    let limits: OTLPLimits
    let namer: OTLPNamer
    let cache: SeriesRefCache
    let deltas: OTLPDeltaStore
    let appender: any MetricAppender
    let nowNs: UInt64

    var result = OTLPMetricsResult()
    /// Series stored by this request, remembered in the cache once committed.
    var learned: [(Fingerprint, SeriesRef)] = []
    /// Delta updates applied by this request, undone if it is not stored.
    var deltaUpdates: [DeltaUpdate] = []
    /// Reused buffers.
    var scratch: [UInt8] = []
    var attributeEntries: [(reader: ProtoReader, raw: UnsafeRawBufferPointer)] = []
    var exemplarReaders: [ProtoReader] = []

    init(ingester: OTLPMetricsIngester, appender: any MetricAppender, nowNs: UInt64) {
        options = ingester.options
        limits = ingester.limits
        namer = ingester.namer
        cache = ingester.cache
        deltas = ingester.deltas
        self.appender = appender
        self.nowNs = nowNs
    }

    mutating func translate(_ bytes: UnsafeRawBufferPointer) throws {
        var reader = ProtoReader(bytes)
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            if field == 1 {
                try reader.expect(wire, .lengthDelimited, field: field)
                try resourceMetrics(try reader.readMessage())
            } else {
                try reader.skip(wire)
            }
        }
    }

    // MARK: - Resource and scope

    private mutating func resourceMetrics(_ message: ProtoReader) throws {
        // The resource may follow its scopes on the wire: find it first.
        var scan = message
        var resourceReaders: [ProtoReader] = []
        var scopeReaders: [ProtoReader] = []
        while !scan.isAtEnd {
            let (field, wire) = try scan.readTag()
            switch field {
            case 1:
                try scan.expect(wire, .lengthDelimited, field: field)
                resourceReaders.append(try scan.readMessage())
            case 2:
                try scan.expect(wire, .lengthDelimited, field: field)
                scopeReaders.append(try scan.readMessage())
            default:
                try scan.skip(wire)
            }
        }
        var attributes: [OTLPAttributes.Attribute] = []
        for resourceReader in resourceReaders {
            try OTLPAttributes.collect(resourceReader, field: 1, into: &attributes)
        }
        var resource = OTLPResourceContext(attributes: attributes, options: options, namer: namer, limits: limits)
        if let problem = resource.problem {
            // Points of a resource that cannot be labelled are all rejected.
            for scope in scopeReaders { try rejectPoints(inScope: scope, problem) }
            return
        }
        for scope in scopeReaders { try scopeMetrics(scope, &resource) }
        if resource.maxTimeMs != .min { try appendTargetInfo(resource) }
    }

    private mutating func scopeMetrics(_ message: ProtoReader, _ resource: inout OTLPResourceContext) throws {
        var scan = message
        var scope = OTLPScopeContext()
        var metricReaders: [ProtoReader] = []
        while !scan.isAtEnd {
            let (field, wire) = try scan.readTag()
            switch field {
            case 1:
                try scan.expect(wire, .lengthDelimited, field: field)
                var message = try scan.readMessage()
                try scope.decode(&message)
            case 2:
                try scan.expect(wire, .lengthDelimited, field: field)
                metricReaders.append(try scan.readMessage())
            case 3:
                try scan.expect(wire, .lengthDelimited, field: field)
                scope.schemaURL = try scan.readString()
            default:
                try scan.skip(wire)
            }
        }
        scope.finish(options: options, namer: namer, limits: limits)
        if let problem = scope.problem {
            try rejectPoints(inScope: message, problem)
            return
        }
        for metric in metricReaders { try self.metric(metric, &resource, scope) }
    }

    /// Rejects every data point of a scope.
    private mutating func rejectPoints(inScope message: ProtoReader, _ problem: String) throws {
        var scan = message
        var count = 0
        while !scan.isAtEnd {
            let (field, wire) = try scan.readTag()
            guard field == 2, wire == .lengthDelimited else {
                try scan.skip(wire)
                continue
            }
            var metric = try scan.readMessage()
            while !metric.isAtEnd {
                let (metricField, metricWire) = try metric.readTag()
                guard [5, 7, 9, 10, 11].contains(metricField), metricWire == .lengthDelimited else {
                    try metric.skip(metricWire)
                    continue
                }
                var data = try metric.readMessage()
                while !data.isAtEnd {
                    let (dataField, dataWire) = try data.readTag()
                    if dataField == 1 { count += 1 }
                    try data.skip(dataWire)
                }
            }
        }
        result.dataPoints += count
        for _ in 0..<count { result.reject(problem) }
    }
}
