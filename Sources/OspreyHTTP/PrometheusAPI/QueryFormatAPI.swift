import HTTPTypes
import Hummingbird
import OspreyPromQLParser

/// `/api/v1/format_query`: the canonical form of a PromQL expression, as Prometheus' `String()`;
/// `/api/v1/parse_query`: its syntax tree as JSON.
struct QueryFormatAPI: Sendable {
    func register(on router: Router<OspreyRequestContext>) {
        router.get("/api/v1/format_query") { request, _ in try await handle { try await format(request) } }
        router.post("/api/v1/format_query") { request, _ in try await handle { try await format(request) } }
        router.get("/api/v1/parse_query") { request, _ in try await handle { try await parse(request) } }
        router.post("/api/v1/parse_query") { request, _ in try await handle { try await parse(request) } }
    }

    private func format(_ request: Request) async throws -> Response {
        let parameters = try await APIParameters.from(request)
        let query = parameters.first("query") ?? ""
        let expr: Expr
        do {
            expr = try PromQLParser.parse(query)
        } catch {
            throw APIError(.badData, "invalid parameter \"query\": \(error)")
        }
        return APIEnvelope.success { writer in writer.string(expr.description) }
    }

    private func parse(_ request: Request) async throws -> Response {
        let parameters = try await APIParameters.from(request)
        let expr = try QueryAPI.parse(parameters.first("query") ?? "")
        return APIEnvelope.success { writer in QueryASTJSON.translate(expr).write(&writer) }
    }
}
