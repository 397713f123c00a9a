import AMQPProtocol
import NIOCore

/// Work handed to the channel handler (written into the NIO pipeline from any thread).
enum AMQPHandlerTask {
    case openChannel(EventLoopPromise<UInt16>)
    /// A method on `channel`; `promise` receives the reply of a synchronous method, nil for
    /// asynchronous ones (`ack`, `nack`, `reject`) which only need to be written.
    case request(channel: UInt16, method: AMQPMethod, promise: EventLoopPromise<AMQPReply>?)
    /// A `basic.publish` with its content; `confirmed` completes when the broker confirms it
    /// (confirm mode), or once written otherwise.
    case publish(
        channel: UInt16,
        AMQPMethod.Basic.Publish,
        properties: AMQPBasicProperties,
        body: ByteBuffer,
        confirmed: EventLoopPromise<Void>
    )
    /// Registers the consumer's sink, then sends `basic.consume`.
    case consume(
        channel: UInt16, AMQPMethod.Basic.Consume, sink: AMQPDeliverySink, promise: EventLoopPromise<AMQPReply>)
    case setReturnSink(channel: UInt16, AsyncStream<AMQPReturnedMessage>.Continuation)
    case closeChannel(channel: UInt16, promise: EventLoopPromise<Void>)
    case closeConnection(promise: EventLoopPromise<Void>)
}

/// A reply to a synchronous request.
enum AMQPReply {
    case method(AMQPMethod)
    case get(AMQPGetResult?)
}

typealias AMQPDeliverySink = AsyncThrowingStream<AMQPDelivery, any Error>.Continuation
