import Hummingbird
import HummingbirdCore
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
}

extension HTTP1Channel.Configuration.DecoderConfiguration {
    /// The decoder's limits for `limits`: no header field and no head (request target included)
    /// larger than `maxHeadBytes`.
    public init(limits: HTTPLimits) {
        self.init(maxHeaderFieldSize: limits.maxHeadBytes, maxHeaderListSize: limits.maxHeadBytes)
    }
}
