import AMQPProtocol
import Foundation
import NIOCore

/// One AMQP channel: declare topology, publish, consume, acknowledge.
///
/// Synchronous methods return when the broker replied. A channel error (e.g. 404 NOT_FOUND for a
/// missing queue, 406 PRECONDITION_FAILED for a re-declaration with other arguments) throws an
/// ``AMQPClientError`` with the reply code and closes this channel only; open a new one to go on.
public struct AMQPChannel: Sendable {
    /// The connection the channel lives on.
    public let connection: AMQPConnection
    /// The channel number.
    public let id: UInt16

    // MARK: Requests

    private func call(_ method: AMQPMethod) async throws(AMQPClientError) -> AMQPReply {
        let promise = self.connection.channel.eventLoop.makePromise(of: AMQPReply.self)
        self.connection.send(.request(channel: self.id, method: method, promise: promise))
        return try await AMQPConnection.await(promise.futureResult)
    }

    private func callExpectingMethod(_ method: AMQPMethod) async throws(AMQPClientError) -> AMQPMethod {
        guard case .method(let reply) = try await self.call(method) else {
            throw AMQPClientError(.protocolViolation, message: "a message where a method reply was expected")
        }
        return reply
    }

    private func send(_ method: AMQPMethod) {
        self.connection.send(.request(channel: self.id, method: method, promise: nil))
    }

    // MARK: Exchanges

    /// Declares an exchange (`passive` only checks that it exists).
    public func exchangeDeclare(
        _ name: String,
        type: String = "direct",
        passive: Bool = false,
        durable: Bool = true,
        autoDelete: Bool = false,
        internal: Bool = false,
        arguments: AMQPFieldTable = [:]
    ) async throws(AMQPClientError) {
        let declare = AMQPMethod.Exchange.Declare(
            exchange: name,
            type: type,
            passive: passive,
            durable: durable,
            autoDelete: autoDelete,
            internal: `internal`,
            arguments: arguments
        )
        _ = try await self.callExpectingMethod(.exchange(.declare(declare)))
    }

    /// Deletes an exchange.
    public func exchangeDelete(_ name: String, ifUnused: Bool = false) async throws(AMQPClientError) {
        _ = try await self.callExpectingMethod(.exchange(.delete(exchange: name, ifUnused: ifUnused, noWait: false)))
    }

    /// Binds exchange `destination` to `source` (a RabbitMQ extension).
    public func exchangeBind(
        destination: String,
        source: String,
        routingKey: String,
        arguments: AMQPFieldTable = [:]
    ) async throws(AMQPClientError) {
        let bind = AMQPMethod.Exchange.Bind(
            destination: destination, source: source, routingKey: routingKey, arguments: arguments)
        _ = try await self.callExpectingMethod(.exchange(.bind(bind)))
    }

    /// Removes an exchange-to-exchange binding.
    public func exchangeUnbind(
        destination: String,
        source: String,
        routingKey: String,
        arguments: AMQPFieldTable = [:]
    ) async throws(AMQPClientError) {
        let bind = AMQPMethod.Exchange.Bind(
            destination: destination, source: source, routingKey: routingKey, arguments: arguments)
        _ = try await self.callExpectingMethod(.exchange(.unbind(bind)))
    }

    // MARK: Queues

    /// The broker's answer to `queue.declare`.
    public struct QueueDeclareResult: Sendable, Equatable {
        /// The queue's name; the broker's choice when it was declared with an empty name.
        public var queue: String
        /// Messages ready in the queue (not counting unacknowledged ones).
        public var messageCount: UInt32
        /// Consumers currently attached to the queue.
        public var consumerCount: UInt32
    }

    /// Declares a queue (`passive` only checks that it exists and counts its messages).
    @discardableResult
    public func queueDeclare(
        _ name: String,
        passive: Bool = false,
        durable: Bool = true,
        exclusive: Bool = false,
        autoDelete: Bool = false,
        arguments: AMQPFieldTable = [:]
    ) async throws(AMQPClientError) -> QueueDeclareResult {
        let declare = AMQPMethod.Queue.Declare(
            queue: name,
            passive: passive,
            durable: durable,
            exclusive: exclusive,
            autoDelete: autoDelete,
            arguments: arguments
        )
        guard
            case .queue(.declareOk(let queue, let messages, let consumers)) = try await self.callExpectingMethod(
                .queue(.declare(declare))
            )
        else {
            throw AMQPClientError(.protocolViolation, message: "queue.declare answered without declare-ok")
        }
        return QueueDeclareResult(queue: queue, messageCount: messages, consumerCount: consumers)
    }

    /// Binds a queue to an exchange.
    public func queueBind(
        _ queue: String,
        exchange: String,
        routingKey: String,
        arguments: AMQPFieldTable = [:]
    ) async throws(AMQPClientError) {
        let bind = AMQPMethod.Queue.Bind(queue: queue, exchange: exchange, routingKey: routingKey, arguments: arguments)
        _ = try await self.callExpectingMethod(.queue(.bind(bind)))
    }

    /// Removes a queue binding.
    public func queueUnbind(
        _ queue: String,
        exchange: String,
        routingKey: String,
        arguments: AMQPFieldTable = [:]
    ) async throws(AMQPClientError) {
        let bind = AMQPMethod.Queue.Bind(queue: queue, exchange: exchange, routingKey: routingKey, arguments: arguments)
        _ = try await self.callExpectingMethod(.queue(.unbind(bind)))
    }

    /// Removes every ready message; returns how many.
    @discardableResult
    public func queuePurge(_ queue: String) async throws(AMQPClientError) -> UInt32 {
        guard
            case .queue(.purgeOk(let count)) = try await self.callExpectingMethod(
                .queue(.purge(queue: queue, noWait: false)))
        else { throw AMQPClientError(.protocolViolation, message: "queue.purge answered without purge-ok") }
        return count
    }

    /// Deletes a queue; returns how many messages it held.
    @discardableResult
    public func queueDelete(_ queue: String, ifUnused: Bool = false, ifEmpty: Bool = false)
        async throws(AMQPClientError)
        -> UInt32
    {
        let method = AMQPMethod.queue(.delete(queue: queue, ifUnused: ifUnused, ifEmpty: ifEmpty, noWait: false))
        guard case .queue(.deleteOk(let count)) = try await self.callExpectingMethod(method) else {
            throw AMQPClientError(.protocolViolation, message: "queue.delete answered without delete-ok")
        }
        return count
    }

    // MARK: Basic

    /// Limits unacknowledged deliveries to `prefetchCount` (0: unlimited) for this channel's consumers.
    public func basicQos(prefetchCount: UInt16, global: Bool = false) async throws(AMQPClientError) {
        _ = try await self.callExpectingMethod(
            .basic(.qos(prefetchSize: 0, prefetchCount: prefetchCount, global: global)))
    }

    /// Puts the channel in confirm mode: every later ``publish(_:exchange:routingKey:mandatory:properties:)``
    /// returns only once the broker confirmed the message.
    public func confirmSelect() async throws(AMQPClientError) {
        _ = try await self.callExpectingMethod(.confirm(.select(noWait: false)))
    }

    /// Publishes a message. In confirm mode, returns when the broker confirmed it.
    ///
    /// - Throws: `publishNacked` when the broker refused it; `unroutable` (with the broker's 312 NO_ROUTE)
    ///   when `mandatory` is set and no queue took it; connection
    ///   and channel errors when the channel went away before the confirm: the message may or may not
    ///   have been taken, so publish again (consumers are idempotent).
    public func publish(
        _ body: ByteBuffer,
        exchange: String = "",
        routingKey: String,
        mandatory: Bool = false,
        properties: AMQPBasicProperties = AMQPBasicProperties()
    ) async throws(AMQPClientError) {
        let promise = self.connection.channel.eventLoop.makePromise(of: Void.self)
        let publish = AMQPMethod.Basic.Publish(exchange: exchange, routingKey: routingKey, mandatory: mandatory)
        self.connection.send(
            .publish(channel: self.id, publish, properties: properties, body: body, confirmed: promise))
        try await AMQPConnection.await(promise.futureResult)
    }

    /// Starts a consumer on `queue`; deliveries arrive through the returned sequence until the
    /// consumer is cancelled (by ``cancel(consumerTag:)`` or the broker) or the channel closes.
    ///
    /// The sequence buffers what the broker sends; set ``basicQos(prefetchCount:global:)`` first so the
    /// broker never sends more than `prefetchCount` unacknowledged deliveries.
    public func consume(
        queue: String,
        consumerTag: String? = nil,
        noAck: Bool = false,
        exclusive: Bool = false,
        arguments: AMQPFieldTable = [:]
    ) async throws(AMQPClientError) -> AMQPConsumer {
        let tag = consumerTag ?? "decode-async-\(UUID().uuidString.lowercased())"
        let (stream, sink) = AsyncThrowingStream<AMQPDelivery, any Error>.makeStream()
        let promise = self.connection.channel.eventLoop.makePromise(of: AMQPReply.self)
        let consume = AMQPMethod.Basic.Consume(
            queue: queue,
            consumerTag: tag,
            noAck: noAck,
            exclusive: exclusive,
            arguments: arguments
        )
        self.connection.send(.consume(channel: self.id, consume, sink: sink, promise: promise))
        _ = try await AMQPConnection.await(promise.futureResult)
        return AMQPConsumer(channel: self, consumerTag: tag, deliveries: stream)
    }

    /// Cancels a consumer; deliveries already sent to it arrive before the sequence ends.
    public func cancel(consumerTag: String) async throws(AMQPClientError) {
        _ = try await self.callExpectingMethod(.basic(.cancel(consumerTag: consumerTag, noWait: false)))
    }

    /// Cancels a consumer without waiting for the broker's answer (`no-wait`), for shutdown handlers.
    public func cancelWithoutWaiting(consumerTag: String) {
        self.send(.basic(.cancel(consumerTag: consumerTag, noWait: true)))
    }

    /// Fetches one message, or nil when the queue is empty.
    public func get(queue: String, noAck: Bool = false) async throws(AMQPClientError) -> AMQPGetResult? {
        guard case .get(let result) = try await self.call(.basic(.get(queue: queue, noAck: noAck))) else {
            throw AMQPClientError(.protocolViolation, message: "basic.get answered with a method")
        }
        return result
    }

    /// Acknowledges one delivery (or all up to it with `multiple`).
    public func ack(deliveryTag: UInt64, multiple: Bool = false) {
        self.send(.basic(.ack(deliveryTag: deliveryTag, multiple: multiple)))
    }

    /// Rejects one delivery (or all up to it with `multiple`), requeueing or dropping/dead-lettering it.
    public func nack(deliveryTag: UInt64, multiple: Bool = false, requeue: Bool) {
        self.send(.basic(.nack(deliveryTag: deliveryTag, multiple: multiple, requeue: requeue)))
    }

    /// Rejects one delivery.
    public func reject(deliveryTag: UInt64, requeue: Bool) {
        self.send(.basic(.reject(deliveryTag: deliveryTag, requeue: requeue)))
    }

    /// Mandatory messages the broker returned on this channel; call once, before publishing.
    public func returnedMessages() -> AsyncStream<AMQPReturnedMessage> {
        let (stream, continuation) = AsyncStream<AMQPReturnedMessage>.makeStream()
        self.connection.send(.setReturnSink(channel: self.id, continuation))
        return stream
    }

    /// Closes the channel politely; pending calls on it fail with `channelClosed`.
    public func close() async {
        let promise = self.connection.channel.eventLoop.makePromise(of: Void.self)
        self.connection.send(.closeChannel(channel: self.id, promise: promise))
        try? await promise.futureResult.get()
    }
}

/// A running consumer: an `AsyncSequence` of deliveries, ended by cancellation or channel loss.
public struct AMQPConsumer: AsyncSequence, Sendable {
    /// Each element is one message delivered to this consumer.
    public typealias Element = AMQPDelivery

    /// The channel deliveries must be acknowledged on.
    public let channel: AMQPChannel
    /// The tag naming this consumer at the broker; pass it to `cancel(consumerTag:)`.
    public let consumerTag: String
    let deliveries: AsyncThrowingStream<AMQPDelivery, any Error>

    /// Iterates the deliveries; the iteration throws when the channel or connection is lost.
    public func makeAsyncIterator() -> AsyncThrowingStream<AMQPDelivery, any Error>.AsyncIterator {
        self.deliveries.makeAsyncIterator()
    }

    /// Cancels the consumer at the broker.
    public func cancel() async throws(AMQPClientError) {
        try await self.channel.cancel(consumerTag: self.consumerTag)
    }
}
