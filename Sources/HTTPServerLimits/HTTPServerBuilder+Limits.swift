import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import NIOCore

extension HTTPServerBuilder {
    /// An HTTP/1 server whose connections obey `limits` (head timeout, idle timeout, head size).
    public static func http1(limits: HTTPLimits) -> HTTPServerBuilder {
        let configuration = HTTP1Channel.Configuration(
            httpDecoderConfiguration: .init(limits: limits))
        return .init { responder in
            HTTPLimitedChildChannel(
                base: HTTP1Channel(responder: responder, configuration: configuration), limits: limits)
        }
    }

    /// An HTTP/1 server with the WebSocket upgrade whose HTTP connections obey `limits`; an upgraded
    /// WebSocket is governed by its own protocol (ping/pong, close), not by `limits`.
    public static func http1WebSocketUpgrade<WSResponderBuilder: HTTPResponderBuilder>(
        webSocketRouter: WSResponderBuilder,
        configuration: WebSocketServerConfiguration,
        limits: HTTPLimits
    ) -> HTTPServerBuilder where WSResponderBuilder.Responder.Context: WebSocketRequestContext {
        let webSocketResponder = webSocketRouter.buildResponder()
        let channelConfiguration = HTTP1WebSocketUpgradeChannel.Configuration(
            http1: .init(httpDecoderConfiguration: .init(limits: limits)), ws: configuration)
        return .init { responder in
            HTTPLimitedChildChannel(
                base: HTTP1WebSocketUpgradeChannel(
                    responder: responder, webSocketResponder: webSocketResponder, configuration: channelConfiguration),
                limits: limits)
        }
    }
}

extension HTTP1Channel.Configuration.DecoderConfiguration {
    /// The decoder's limits for `limits`: no header field and no head (request target included)
    /// larger than `maxHeadBytes`.
    init(limits: HTTPLimits) {
        self.init(maxHeaderFieldSize: limits.maxHeadBytes, maxHeaderListSize: limits.maxHeadBytes)
    }
}
