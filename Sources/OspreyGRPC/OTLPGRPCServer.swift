import GRPCCore
import GRPCNIOTransportHTTP2
package import OspreyIngest

/// The OTLP/gRPC listener (`--otlp.grpc-address`, 4317 by default): plaintext HTTP/2, gzip and
/// deflate request compression, messages up to the receiver's size limit (after decompression).
package struct OTLPGRPCServer: Sendable {
    let server: GRPCServer<HTTP2ServerTransport.Posix>

    /// A server on `host:port` storing through `receiver`.
    package init(host: String, port: Int, receiver: OTLPReceiver) {
        let transport = HTTP2ServerTransport.Posix(
            address: host.contains(":") ? .ipv6(host: host, port: port) : .ipv4(host: host, port: port),
            transportSecurity: .plaintext,
            config: .defaults { config in
                config.rpc.maxRequestPayloadSize = receiver.maxMessageBytes
                config.compression.enabledAlgorithms = .all
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
