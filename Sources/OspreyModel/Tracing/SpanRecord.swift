/// A typed attribute value, as OpenTelemetry has them (`AnyValue`).
package indirect enum AttributeValue: Hashable, Sendable {
    case string(String)
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case bytes([UInt8])
    case array([AttributeValue])
    case map([Attribute])
    /// An `AnyValue` with no value set.
    case empty

    /// The value as text, for matching tag filters (`"200"` matches the integer 200).
    package var text: String {
        switch self {
        case .string(let value): return value
        case .bool(let value): return value ? "true" : "false"
        case .int(let value): return String(value)
        case .double(let value): return GoFloatFormat.g(value)
        case .bytes(let value): return value.map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
        }.joined()
        case .array(let values): return "[" + values.map(\.text).joined(separator: ",") + "]"
        case .map(let entries): return "{" + entries.map { "\($0.key):\($0.value.text)" }.joined(separator: ",") + "}"
        case .empty: return ""
        }
    }
}

/// A key and a typed value.
package struct Attribute: Hashable, Sendable {
    /// The key.
    package var key: String
    /// The value.
    package var value: AttributeValue

    /// An attribute.
    package init(_ key: String, _ value: AttributeValue) {
        self.key = key
        self.value = value
    }
}

/// What a span does (OTLP's numbering).
package enum SpanKind: UInt8, Hashable, Sendable, CaseIterable {
    case unspecified = 0, `internal` = 1, server = 2, client = 3, producer = 4, consumer = 5

    /// The kind Jaeger names `name` (`server`, `client`, `producer`, `consumer`, `internal`,
    /// any case); nil for other names.
    package init?(jaegerName name: String) {
        guard let kind = SpanKind.allCases.first(where: { $0 != .unspecified && $0.jaegerName == name.lowercased() }) else { return nil }
        self = kind
    }

    /// The lowercase name Jaeger uses (`server`, `client`, …; empty when unspecified).
    package var jaegerName: String {
        switch self {
        case .unspecified: return ""
        case .internal: return "internal"
        case .server: return "server"
        case .client: return "client"
        case .producer: return "producer"
        case .consumer: return "consumer"
        }
    }
}

/// A span's status (OTLP's numbering: unset 0, ok 1, error 2).
package struct SpanStatus: Hashable, Sendable {
    /// The status code.
    package enum Code: UInt8, Hashable, Sendable {
        case unset = 0, ok = 1, error = 2
    }

    /// The code.
    package var code: Code
    /// A message, usually for errors.
    package var message: String

    /// A status.
    package init(code: Code = .unset, message: String = "") {
        self.code = code
        self.message = message
    }
}

/// Something that happened during a span (Jaeger's span logs).
package struct SpanEvent: Hashable, Sendable {
    /// When, in ns since the epoch.
    package var timeUnixNano: UInt64
    /// The event's name.
    package var name: String
    /// Its attributes.
    package var attributes: [Attribute]
    /// Attributes the client dropped.
    package var droppedAttributesCount: UInt32

    /// An event.
    package init(timeUnixNano: UInt64, name: String, attributes: [Attribute] = [], droppedAttributesCount: UInt32 = 0) {
        self.timeUnixNano = timeUnixNano
        self.name = name
        self.attributes = attributes
        self.droppedAttributesCount = droppedAttributesCount
    }
}

/// A link to another span (Jaeger's `FOLLOWS_FROM` and extra `CHILD_OF` references).
package struct SpanLink: Hashable, Sendable {
    /// The linked span's trace.
    package var traceID: TraceID
    /// The linked span.
    package var spanID: SpanID
    /// W3C trace state.
    package var traceState: String
    /// The link's attributes.
    package var attributes: [Attribute]
    /// Attributes the client dropped.
    package var droppedAttributesCount: UInt32
    /// W3C trace flags.
    package var flags: UInt32

    /// A link.
    package init(traceID: TraceID, spanID: SpanID, traceState: String = "", attributes: [Attribute] = [], droppedAttributesCount: UInt32 = 0, flags: UInt32 = 0) {
        self.traceID = traceID
        self.spanID = spanID
        self.traceState = traceState
        self.attributes = attributes
        self.droppedAttributesCount = droppedAttributesCount
        self.flags = flags
    }
}

/// What produced the telemetry: a service's resource attributes (Jaeger's process tags).
package struct Resource: Hashable, Sendable {
    /// The attributes (`service.name` among them).
    package var attributes: [Attribute]
    /// Attributes the client dropped.
    package var droppedAttributesCount: UInt32

    /// A resource.
    package init(attributes: [Attribute] = [], droppedAttributesCount: UInt32 = 0) {
        self.attributes = attributes
        self.droppedAttributesCount = droppedAttributesCount
    }

    /// `service.name`, or OpenTelemetry's default `unknown_service` when there is none.
    package var serviceName: String {
        for attribute in attributes where attribute.key == "service.name" {
            if case .string(let name) = attribute.value, !name.isEmpty { return name }
        }
        return "unknown_service"
    }
}

/// The library that made the telemetry.
package struct InstrumentationScope: Hashable, Sendable {
    /// The library's name.
    package var name: String
    /// Its version.
    package var version: String
    /// Its attributes.
    package var attributes: [Attribute]
    /// Attributes the client dropped.
    package var droppedAttributesCount: UInt32

    /// A scope.
    package init(name: String = "", version: String = "", attributes: [Attribute] = [], droppedAttributesCount: UInt32 = 0) {
        self.name = name
        self.version = version
        self.attributes = attributes
        self.droppedAttributesCount = droppedAttributesCount
    }
}

/// One span, in the shape every ingest format maps to and every API reads from: everything
/// OTLP carries, which is also everything the Jaeger and Zipkin models can express.
package struct SpanRecord: Hashable, Sendable {
    package var traceID: TraceID
    package var spanID: SpanID
    /// The parent span; zero for a root span.
    package var parentSpanID: SpanID
    /// W3C trace state.
    package var traceState: String
    /// W3C trace flags (and OTLP's span flags).
    package var flags: UInt32
    /// The operation name.
    package var name: String
    package var kind: SpanKind
    /// Start, ns since the epoch.
    package var startTimeUnixNano: UInt64
    /// End, ns since the epoch (not before the start).
    package var endTimeUnixNano: UInt64
    package var attributes: [Attribute]
    package var droppedAttributesCount: UInt32
    package var events: [SpanEvent]
    package var droppedEventsCount: UInt32
    package var links: [SpanLink]
    package var droppedLinksCount: UInt32
    package var status: SpanStatus
    package var resource: Resource
    package var scope: InstrumentationScope

    /// A span; the optional parts empty.
    package init(
        traceID: TraceID, spanID: SpanID, parentSpanID: SpanID = SpanID(0), traceState: String = "", flags: UInt32 = 0,
        name: String, kind: SpanKind = .unspecified, startTimeUnixNano: UInt64, endTimeUnixNano: UInt64,
        attributes: [Attribute] = [], droppedAttributesCount: UInt32 = 0, events: [SpanEvent] = [], droppedEventsCount: UInt32 = 0,
        links: [SpanLink] = [], droppedLinksCount: UInt32 = 0, status: SpanStatus = SpanStatus(),
        resource: Resource = Resource(), scope: InstrumentationScope = InstrumentationScope()
    ) {
        self.traceID = traceID
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.traceState = traceState
        self.flags = flags
        self.name = name
        self.kind = kind
        self.startTimeUnixNano = startTimeUnixNano
        self.endTimeUnixNano = endTimeUnixNano
        self.attributes = attributes
        self.droppedAttributesCount = droppedAttributesCount
        self.events = events
        self.droppedEventsCount = droppedEventsCount
        self.links = links
        self.droppedLinksCount = droppedLinksCount
        self.status = status
        self.resource = resource
        self.scope = scope
    }

    /// The span's duration in ns.
    package var durationNanos: UInt64 { endTimeUnixNano >= startTimeUnixNano ? endTimeUnixNano - startTimeUnixNano : 0 }

    /// The service that reported the span.
    package var serviceName: String { resource.serviceName }
}
