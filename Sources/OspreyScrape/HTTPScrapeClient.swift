import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOHTTPCompression
import NIOSSL

/// Scrapes over HTTP(S) with AsyncHTTPClient, with a job's authentication, TLS, proxy,
/// redirect and compression settings, sending the headers Prometheus sends.
package final class HTTPScrapeClient: ScrapeClient {
    private let client: HTTPClient
    private let headers: HTTPHeaders

    /// A client for `config`; throws a message when a credentials or TLS file cannot be read.
    package init(config: ScrapeConfig, userAgent: String) throws(ScrapeFetchError) {
        var tls: TLSConfiguration?
        if let settings = config.tlsConfig {
            var configuration = TLSConfiguration.makeClientConfiguration()
            do {
                if let ca = settings.caFile { configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca)) }
                if let cert = settings.certFile { configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) } }
                if let key = settings.keyFile { configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)) }
            } catch {
                throw ScrapeFetchError("tls_config of job \(config.jobName): \(error)")
            }
            if settings.insecureSkipVerify { configuration.certificateVerification = .none }
            tls = configuration
        }
        var proxy: HTTPClient.Configuration.Proxy?
        if let proxyURL = config.proxyURL {
            guard let url = URL(string: proxyURL), let host = url.host else {
                throw ScrapeFetchError("proxy_url of job \(config.jobName): \"\(proxyURL)\" is not a URL")
            }
            proxy = .server(host: host, port: url.port ?? 80)
        }
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls,
            redirectConfiguration: config.followRedirects ? .follow(max: 10, allowCycles: false) : .disallow,
            timeout: HTTPClient.Configuration.Timeout(connect: .milliseconds(config.scrapeTimeoutMs)),
            proxy: proxy,
            decompression: .enabled(limit: config.bodySizeLimitBytes > 0 ? .size(Int(config.bodySizeLimitBytes)) : .none)
        )
        configuration.httpVersion = .http1Only
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)

        var headers = HTTPHeaders()
        headers.add(name: "Accept", value: ScrapeProtocol.acceptHeader(config.scrapeProtocols))
        headers.add(name: "Accept-Encoding", value: config.enableCompression ? "gzip" : "identity")
        headers.add(name: "User-Agent", value: userAgent)
        headers.add(name: "X-Prometheus-Scrape-Timeout-Seconds", value: Self.seconds(config.scrapeTimeoutMs))
        if let basic = config.basicAuth {
            headers.add(name: "Authorization", value: "Basic " + Data("\(basic.username):\(basic.password)".utf8).base64EncodedString())
        } else if let authorization = config.authorization {
            headers.add(name: "Authorization", value: "\(authorization.type) \(authorization.credentials)")
        }
        self.headers = headers
    }

    package func fetch(url: String, timeoutMs: Int64, bodySizeLimitBytes: Int64) async throws(ScrapeFetchError) -> ScrapeResponse {
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        request.headers = headers
        request.headers.replaceOrAdd(name: "X-Prometheus-Scrape-Timeout-Seconds", value: Self.seconds(timeoutMs))
        do {
            let response = try await client.execute(request, timeout: .milliseconds(timeoutMs))
            guard response.status == .ok else {
                throw ScrapeFetchError("server returned HTTP status \(response.status.code) \(response.status.reasonPhrase)")
            }
            let limit = bodySizeLimitBytes > 0 ? Int(bodySizeLimitBytes) : Int.max
            let buffer: ByteBuffer
            do {
                buffer = try await response.body.collect(upTo: limit)
            } catch is NIOTooManyBytesError {
                throw ScrapeFetchError("body size limit exceeded")
            }
            return ScrapeResponse(contentType: response.headers.first(name: "Content-Type") ?? "", body: Array(buffer.readableBytesView))
        } catch let error as ScrapeFetchError {
            throw error
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            throw ScrapeFetchError("context deadline exceeded")
        } catch {
            throw ScrapeFetchError("Get \"\(url)\": \(error)")
        }
    }

    package func shutdown() async {
        try? await client.shutdown()
    }

    /// Go's `strconv.FormatFloat(seconds, 'f', -1, 64)`.
    static func seconds(_ milliseconds: Int64) -> String {
        milliseconds % 1000 == 0 ? String(milliseconds / 1000) : String(Double(milliseconds) / 1000)
    }
}
