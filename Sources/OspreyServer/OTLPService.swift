import Logging
import OspreyGRPC
import ServiceLifecycle

/// Runs the OTLP/gRPC listener in the service group: stops accepting on graceful shutdown and
/// lets the exports in flight finish.
struct OTLPGRPCService: Service {
    let server: OTLPGRPCServer
    let address: String
    let logger: Logger

    func run() async throws {
        logger.info("OTLP/gRPC receiver listening", metadata: ["address": "\(address)"])
        try await withGracefulShutdownHandler {
            try await server.serve()
        } onGracefulShutdown: {
            server.stop()
        }
    }
}
