import Synchronization

/// The two encodings of OTLP over HTTP.
package enum OTLPEncoding: Sendable {
    /// `application/x-protobuf`.
    case protobuf
    /// `application/json` (OTLP/JSON).
    case json

    /// The response `Content-Type`.
    package var contentType: String {
        self == .protobuf ? "application/x-protobuf" : "application/json"
    }
}

/// Encodes what OTLP receivers answer: `Export*ServiceResponse` with `partial_success`, and
/// `google.rpc.Status` for errors, in protobuf or OTLP/JSON.
package enum OTLPResponses {
    /// What a signal's `partial_success` counts.
    package enum Signal: Sendable {
        case metrics, traces, logs

        /// The JSON name of the rejected-items field.
        var rejectedJSONName: String {
            switch self {
            case .metrics: return "rejectedDataPoints"
            case .traces: return "rejectedSpans"
            case .logs: return "rejectedLogRecords"
            }
        }
    }

    /// An `Export{Metrics,Trace,Logs}ServiceResponse`: empty when nothing was rejected, else
    /// `partial_success` (field 1) with the rejected count (1) and the message (2).
    package static func export(_ signal: Signal, rejected: Int, message: String, encoding: OTLPEncoding) -> [UInt8] {
        switch encoding {
        case .protobuf:
            guard rejected > 0 || !message.isEmpty else { return [] }
            var writer = ProtoWriter()
            writer.writeMessageField(1) { partial in
                partial.writeInt64Field(1, Int64(rejected))
                partial.writeStringField(2, message)
            }
            return writer.bytes
        case .json:
            guard rejected > 0 || !message.isEmpty else { return Array("{}".utf8) }
            var out = Array("{\"partialSuccess\":{\"\(signal.rejectedJSONName)\":\"\(rejected)\",\"errorMessage\":".utf8)
            OTLPAttributes.appendJSONString(message, to: &out)
            out.append(contentsOf: "}}".utf8)
            return out
        }
    }

    /// A `google.rpc.Status` with a gRPC status code (3 invalid argument, 8 resource exhausted,
    /// 12 unimplemented, 14 unavailable…) and a message.
    package static func status(code: Int, message: String, encoding: OTLPEncoding) -> [UInt8] {
        switch encoding {
        case .protobuf:
            var writer = ProtoWriter()
            writer.writeVarintField(1, UInt64(code))
            writer.writeStringField(2, message)
            return writer.bytes
        case .json:
            var out = Array("{\"code\":\(code),\"message\":".utf8)
            OTLPAttributes.appendJSONString(message, to: &out)
            out.append(UInt8(ascii: "}"))
            return out
        }
    }
}

/// Bounds the bytes of OTLP requests being decoded and stored at once, across receivers.
/// Past the bound a request is refused with "retry later" (HTTP 503 with `Retry-After`, gRPC
/// `UNAVAILABLE` with `RetryInfo`), which OTLP exporters honour, instead of letting memory grow
/// without bound. A request is always admitted when nothing else is in flight.
package final class OTLPAdmission: Sendable {
    /// Most bytes in flight.
    package let limitBytes: Int
    private let inFlight = Atomic<Int>(0)

    /// A bound of `limitBytes`.
    package init(limitBytes: Int = 256 << 20) {
        self.limitBytes = limitBytes
    }

    /// Reserves `bytes`; false when that would pass the bound.
    package func admit(_ bytes: Int) -> Bool {
        var current = inFlight.load(ordering: .relaxed)
        while true {
            if current > 0 && current + bytes > limitBytes { return false }
            let (exchanged, original) = inFlight.compareExchange(expected: current, desired: current + bytes, ordering: .acquiringAndReleasing)
            if exchanged { return true }
            current = original
        }
    }

    /// Returns bytes reserved by ``admit(_:)``.
    package func release(_ bytes: Int) {
        inFlight.subtract(bytes, ordering: .acquiringAndReleasing)
    }

    /// Bytes in flight now.
    package var bytesInFlight: Int { inFlight.load(ordering: .relaxed) }
}
