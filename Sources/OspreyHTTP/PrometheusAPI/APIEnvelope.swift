import HTTPTypes
import Hummingbird

/// The Prometheus API success envelope: `{"status":"success","data":…,"warnings":[…]}`.
enum APIEnvelope {
    static func success(warnings: [String] = [], data: (inout JSONWriter) -> Void) -> Response {
        var json = JSONWriter()
        json.object { object in
            object.field("status", "success")
            object.field("data", data)
            if !warnings.isEmpty {
                object.field("warnings") { writer in
                    writer.array { array in
                        for warning in warnings { array.string(warning) }
                    }
                }
            }
        }
        return json.response()
    }

    /// The warning Prometheus adds when `limit` cut a result short.
    static let truncatedWarning = "results truncated due to limit"
}
