import AMQPProtocol
import Logging
import NIOConcurrencyHelpers

/// A delivery with the channel it must be acknowledged on.
public struct AMQPClientDelivery: Sendable {
    /// The message as the broker delivered it.
    public var delivery: AMQPDelivery
    /// The channel of the connection it arrived on; acks go there.
    public var channel: AMQPChannel

    /// Acknowledges the delivery. After a reconnect this is a no-op: the broker redelivers it.
    public func ack() {
        self.channel.ack(deliveryTag: self.delivery.deliveryTag)
    }

    /// Negatively acknowledges the delivery, requeueing it or not.
    public func nack(requeue: Bool) {
        self.channel.nack(deliveryTag: self.delivery.deliveryTag, requeue: requeue)
    }
}

/// Deliveries from a queue across reconnects; ends when cancelled or when the client shuts down.
public struct AMQPRecoveringConsumer: AsyncSequence, Sendable {
    /// Each element is one delivery with the channel to acknowledge it on.
    public typealias Element = AMQPClientDelivery

    let registration: ConsumerRegistration
    let deliveries: AsyncStream<AMQPClientDelivery>
    let client: AMQPClient

    /// Iterates the deliveries of every connection in turn; never throws, ends on stop or shutdown.
    public func makeAsyncIterator() -> AsyncStream<AMQPClientDelivery>.AsyncIterator {
        self.deliveries.makeAsyncIterator()
    }

    /// Stops consuming at once, without waiting (for graceful-shutdown handlers): sends `basic.cancel`
    /// (no-wait) and ends the sequence after what it already holds. Deliveries still arriving are not
    /// acknowledged and return to the queue when their channel closes.
    public func stop() {
        self.client.remove(self.registration)
        self.registration.stop()
    }

    /// Stops consuming: cancels the consumer at the broker (deliveries already sent still arrive),
    /// then ends the sequence. Unacknowledged deliveries return to the queue when their channel closes.
    public func cancel() async {
        self.client.remove(self.registration)
        await self.registration.cancel()
    }
}

/// One consumer the client keeps alive across connections.
final class ConsumerRegistration: Sendable {
    let queue: String
    let prefetch: UInt16
    let continuation: AsyncStream<AMQPClientDelivery>.Continuation
    private let current = NIOLockedValueBox<(consumer: AMQPConsumer?, cancelled: Bool)>((nil, false))

    init(queue: String, prefetch: UInt16, continuation: AsyncStream<AMQPClientDelivery>.Continuation) {
        self.queue = queue
        self.prefetch = prefetch
        self.continuation = continuation
    }

    func finish() {
        self.current.withLockedValue { $0.cancelled = true }
        self.continuation.finish()
    }

    func stop() {
        let consumer = self.current.withLockedValue { state -> AMQPConsumer? in
            state.cancelled = true
            return state.consumer
        }
        if let consumer {
            consumer.channel.cancelWithoutWaiting(consumerTag: consumer.consumerTag)
        }
        self.continuation.finish()
    }

    func cancel() async {
        let consumer = self.current.withLockedValue { state -> AMQPConsumer? in
            state.cancelled = true
            return state.consumer
        }
        if let consumer {
            try? await consumer.cancel()
            await consumer.channel.close()
        }
        self.continuation.finish()
    }

    private var isCancelled: Bool { self.current.withLockedValue { $0.cancelled } }

    /// Consumes on `connection` until it closes or the consumer is cancelled; a consumer the broker
    /// cancels (or a channel error) is restarted after a pause while the connection lives.
    func run(on connection: AMQPConnection, logger: Logger) async {
        while !self.isCancelled, !Task.isCancelled, connection.isOpen {
            var opened: AMQPChannel?
            do {
                let channel = try await connection.openChannel()
                opened = channel
                try await channel.basicQos(prefetchCount: self.prefetch)
                let consumer = try await channel.consume(queue: self.queue)
                let cancelledMeanwhile = self.current.withLockedValue { state -> Bool in
                    state.consumer = consumer
                    return state.cancelled
                }
                if cancelledMeanwhile {
                    try? await consumer.cancel()
                    await channel.close()
                    return
                }
                for try await delivery in consumer {
                    self.continuation.yield(AMQPClientDelivery(delivery: delivery, channel: channel))
                }
                if Task.isCancelled || self.isCancelled { return }
            } catch {
                if !connection.isOpen || self.isCancelled { return }
                // The broker cancelled the consumer (or the channel failed): do not leak the channel.
                // Deliveries not yet acknowledged on it return to the queue.
                await opened?.close()
                logger.warning(
                    "consumer stopped; restarting",
                    metadata: ["queue": "\(self.queue)", "error": "\(error)"]
                )
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
