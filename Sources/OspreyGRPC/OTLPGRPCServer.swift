import GRPCCore
import GRPCNIOTransportHTTP2
package import OspreyIngest

/// The OTLP/gRPC listener (`--otlp.grpc-address`, 4317 by default): plaintext HTTP/2, gzip and
/// deflate request compression, messages up to the receiver's size limit (after decompression;
/// larger ones get RESOURCE_EXHAUSTED, and a stream reset beyond four times the limit).
package struct OTLPGRPCServer: Sendable {
    let server: GRPCServer<HTTP2ServerTransport.Posix>

    /// A server on `host:port` storing through `receiver`.
    package init(host: String, port: Int, receiver: OTLPReceiver) {
        let transport = HTTP2ServerTransport.Posix(
            address: host.contains(":") ? .ipv6(host: host, port: port) : .ipv4(host: host, port: port),
            transportSecurity: .plaintext,
            config: .defaults { config in
                // The receiver answers messages over its limit with RESOURCE_EXHAUSTED; the
                // transport's own limit (which resets the stream, seen as CANCELLED) only stops
                // messages far beyond it.
                config.rpc.maxRequestPayloadSize = receiver.maxMessageBytes.multipliedReportingOverflow(by: 4).overflow ? .max : receiver.maxMessageBytes * 4
                config.compression.enabledAlgorithms = .all
                // Exports are large unary messages (hundreds of KiB): large frames and windows
                // let them arrive in a few frames without waiting for window updates.
                config.http2.maxFrameSize = 1 << 20
                config.http2.targetWindowSize = 16 << 20
            })
        server = GRPCServer(transport: transport, services: [OTLPGRPCServices(receiver: receiver)])
    }

    /// Serves until ``stop()``; throws when the address cannot be bound.
    package func serve() async throws {
        try await server.serve()
    }

    /// The port actually bound (useful with port 0), once listening.
    package func listeningPort() async throws -> Int? {
        let address = try await server.listeningAddress
        return address?.ipv4?.port ?? address?.ipv6?.port
    }

    /// Stops accepting RPCs and finishes the ones in flight.
    package func stop() {
        server.beginGracefulShutdown()
    }
}
