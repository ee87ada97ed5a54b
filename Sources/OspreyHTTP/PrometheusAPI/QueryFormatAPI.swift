import HTTPTypes
import Hummingbird
import OspreyPromQLParser

/// `/api/v1/format_query`: the canonical form of a PromQL expression, as Prometheus' `String()`.
struct QueryFormatAPI: Sendable {
    func register(on router: Router<BasicRequestContext>) {
        router.get("/api/v1/format_query") { request, _ in try await handle { try await format(request) } }
        router.post("/api/v1/format_query") { request, _ in try await handle { try await format(request) } }
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
}
