import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// A Hummingbird child channel (``HTTP1Channel`` or the WebSocket upgrade channel) with
/// ``HTTPLimitsHandler`` inserted right after its HTTP request decoder.
public struct HTTPLimitedChildChannel<Base: ServerChildChannel>: ServerChildChannel {
    public typealias Value = Base.Value

    public let base: Base
    public let limits: HTTPLimits

    /// `base` must build an HTTP/1 server pipeline (NIO's `HTTPRequestDecoder`); its decoder limits
    /// should match `limits.maxHeadBytes` (the builders in `HTTPServerBuilder+Limits` set them).
    public init(base: Base, limits: HTTPLimits) {
        self.base = base
        self.limits = limits
    }

    /// Sets up the base pipeline, then inserts the limits handler after the decoder.
    ///
    /// Fails the channel when the base pipeline has no HTTP/1 request decoder.
    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let limits = self.limits
        return self.base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let operations = channel.pipeline.syncOperations
            let decoder = try operations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try operations.addHandler(HTTPLimitsHandler(limits: limits), position: .after(decoder))
            return value
        }
    }

    public func handle(value: Value, logger: Logger) async {
        await self.base.handle(value: value, logger: logger)
    }
}
