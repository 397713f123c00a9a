import Hummingbird
import NIOCore

/// The request context of every service's HTTP server: Hummingbird's basic context plus the
/// client's address (the console throttles wrong sign-ins per address).
public struct ServiceRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer of the connection (a proxy's address when behind one).
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }
}
