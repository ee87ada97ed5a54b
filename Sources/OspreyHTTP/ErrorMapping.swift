import HTTPTypes
import Hummingbird
import NIOCore
import OspreyStorage

/// The one place that maps errors to HTTP: status codes as Prometheus' `getDefaultErrorCode`
/// (bad_data 400, execution 422, canceled 499, timeout 503, internal 500, not_found 404,
/// not_acceptable 406) and the body `{"status":"error","errorType":…,"error":…}`.
enum ErrorMapping {
    /// The HTTP status of an API error type.
    static func status(for code: APIError.Code) -> HTTPResponse.Status {
        switch code {
        case .badData: return .badRequest
        case .execution: return .unprocessableContent
        case .canceled: return HTTPResponse.Status(code: 499, reasonPhrase: "Client Closed Request")
        case .timeout: return .serviceUnavailable
        case .internal: return .internalServerError
        case .notFound: return .notFound
        case .notAcceptable: return .notAcceptable
        case .unavailable: return .serviceUnavailable
        case .tooLarge: return .contentTooLarge
        case .unsupportedMediaType: return .unsupportedMediaType
        }
    }

    /// The API error for a storage error.
    static func apiError(for error: StorageError) -> APIError {
        switch error.code {
        case .outOfOrderSample, .outOfBounds, .duplicateSampleForTimestamp, .tooOldSample, .invalidLabels, .unsupported, .unknownSeriesRef:
            return APIError(.badData, error.description)
        case .limitExceeded: return APIError(.execution, error.description)
        case .canceled: return APIError(.canceled, error.description)
        case .unavailable: return APIError(.unavailable, error.description)
        case .io: return APIError(.internal, error.description)
        }
    }

    /// The JSON error response for `error`, with its type's status unless `status` is given.
    static func response(for error: APIError, status: HTTPResponse.Status? = nil) -> Response {
        var json = JSONWriter()
        json.object { object in
            object.field("status", "error")
            object.field("errorType", error.code.rawValue)
            object.field("error", error.message)
        }
        return json.response(status: status ?? Self.status(for: error.code))
    }

    /// A plain-text error response (remote write answers in text, as Prometheus does).
    static func textResponse(for error: APIError) -> Response {
        var buffer = ByteBuffer()
        buffer.writeString(error.message + "\n")
        return Response(
            status: status(for: error.code),
            headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: buffer)
        )
    }
}
