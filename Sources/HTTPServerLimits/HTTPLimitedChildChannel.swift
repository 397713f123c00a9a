import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// A Hummingbird child channel (``HTTP1Channel`` or the WebSocket upgrade channel) with
/// ``HTTPLimitsHandler`` inserted right after its HTTP request decoder.
public struct HTTPLimitedChildChannel<Base: ServerChildChannel>: ServerChildChannel {
    /// The base channel's value, and whether the limits cut the connection.
    public struct Value: ServerChildChannelValue {
        let base: Base.Value
        let cutMark: HTTPConnectionCutMark

        /// The child channel.
        public var channel: any Channel { self.base.channel }
    }

    /// The channel whose pipeline gets the limits.
    public let base: Base
    /// The limits of every connection.
    public let limits: HTTPLimits

    /// `base` must build an HTTP/1 server pipeline (NIO's `HTTPRequestDecoder`); its decoder limits
    /// should match `limits.maxHeadBytes` (the builders in `HTTPServerBuilder+Limits` set them).
    public init(base: Base, limits: HTTPLimits) {
        self.base = base
        self.limits = limits
    }

    /// The receive buffers of every connection: 512 bytes first, then as NIO's adaptive default.
    static var receiveBuffers: AdaptiveRecvByteBufferAllocator {
        AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65_536)
    }

    /// Sets up the base pipeline, then inserts the limits handler after the decoder.
    ///
    /// Fails the channel when the base pipeline has no HTTP/1 request decoder.
    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let limits = self.limits
        return self.base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let operations = channel.pipeline.syncOperations
            // Each connection keeps its last receive buffer for the next read; NIO's first one is
            // 2 KiB. Idle WebSockets read a few hundred bytes at most, so start at 512 bytes (it
            // still doubles, up to 64 KiB, as reads fill it).
            try channel.syncOptions?.setOption(ChannelOptions.recvAllocator, value: Self.receiveBuffers)
            let decoder = try operations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            let cutMark = HTTPConnectionCutMark()
            try operations.addHandler(HTTPLimitsHandler(limits: limits, cutMark: cutMark), position: .after(decoder))
            return Value(base: value, cutMark: cutMark)
        }
    }

    /// Runs the base channel's handling; once the limits cut the connection, what the framework
    /// logs about it is logged at debug level.
    public func handle(value: Value, logger: Logger) async {
        var connectionLogger = logger
        connectionLogger.handler = CutConnectionLogHandler(base: logger.handler, mark: value.cutMark)
        await self.base.handle(value: value.base, logger: connectionLogger)
    }
}
