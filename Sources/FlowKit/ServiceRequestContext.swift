import Hummingbird
import HummingbirdWebSocket
import NIOCore

/// The request context of every service's HTTP server: Hummingbird's WebSocket context plus the
/// client's address (the console throttles wrong sign-ins per address).
public struct ServiceRequestContext: RequestContext, WebSocketRequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>
    /// The peer of the connection (a proxy's address when behind one).
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.webSocket = .init()
        self.remoteAddress = source.channel.remoteAddress
    }
}
