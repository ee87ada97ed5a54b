import Logging
import OspreyGRPC
import OspreyTraceStore
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

/// Runs the trace store's maintenance (cutting the head into blocks, retention) every 15 s
/// and closes its WAL on shutdown.
struct TraceStoreService: Service {
    let store: TraceStore
    let logger: Logger

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try store.maintain()
            } catch {
                logger.error("trace store maintenance failed", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(15)) }
        }
        store.close()
    }
}
