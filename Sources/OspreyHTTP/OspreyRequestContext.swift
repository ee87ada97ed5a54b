package import Hummingbird
package import NIOCore

/// The request context of Osprey's router: Hummingbird's core context plus the connection's
/// channel, so a long query can be canceled when its client goes away.
package struct OspreyRequestContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    /// The connection the request came on.
    package let channel: any Channel

    package init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }
}
