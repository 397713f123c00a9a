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

extension AMQPHandlerTask {
    /// Completes the task's promises with `error` (the connection is gone or the write failed).
    func fail(with error: AMQPClientError) {
        switch self {
        case .openChannel(let promise): promise.fail(error)
        case .request(_, _, let promise): promise?.fail(error)
        case .publish(_, _, _, _, let confirmed): confirmed.fail(error)
        case .consume(_, _, let sink, let promise):
            sink.finish(throwing: error)
            promise.fail(error)
        case .setReturnSink(_, let continuation): continuation.finish()
        case .closeChannel(_, let promise): promise.succeed()
        case .closeConnection(let promise): promise.succeed()
        }
    }
}

/// A reply to a synchronous request.
enum AMQPReply {
    case method(AMQPMethod)
    case get(AMQPGetResult?)
}

typealias AMQPDeliverySink = AsyncThrowingStream<AMQPDelivery, any Error>.Continuation
