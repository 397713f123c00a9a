import AMQPProtocol

/// A declaration the recovering client remembers and repeats after every reconnect.
public enum AMQPTopologyStep: Sendable, Hashable {
    /// Declare an exchange of `type` (`direct`, `fanout`, `topic`, `headers`).
    case exchange(name: String, type: String, durable: Bool, autoDelete: Bool, arguments: AMQPFieldTable)
    /// Declare a queue; an `exclusive` one lives only as long as the connection.
    case queue(name: String, durable: Bool, exclusive: Bool, autoDelete: Bool, arguments: AMQPFieldTable)
    /// Bind a queue to an exchange with a binding key.
    case queueBinding(queue: String, exchange: String, routingKey: String, arguments: AMQPFieldTable)
    /// Bind an exchange to another exchange (RabbitMQ extension).
    case exchangeBinding(destination: String, source: String, routingKey: String, arguments: AMQPFieldTable)

    /// A durable queue with `arguments` (none, as NestJS declares its queues, by default).
    public static func queue(_ name: String, arguments: AMQPFieldTable = [:]) -> AMQPTopologyStep {
        .queue(name: name, durable: true, exclusive: false, autoDelete: false, arguments: arguments)
    }

    /// Applies the step on `channel`.
    public func apply(on channel: AMQPChannel) async throws(AMQPClientError) {
        switch self {
        case .exchange(let name, let type, let durable, let autoDelete, let arguments):
            try await channel.exchangeDeclare(
                name,
                type: type,
                durable: durable,
                autoDelete: autoDelete,
                arguments: arguments
            )
        case .queue(let name, let durable, let exclusive, let autoDelete, let arguments):
            try await channel.queueDeclare(
                name,
                durable: durable,
                exclusive: exclusive,
                autoDelete: autoDelete,
                arguments: arguments
            )
        case .queueBinding(let queue, let exchange, let routingKey, let arguments):
            try await channel.queueBind(queue, exchange: exchange, routingKey: routingKey, arguments: arguments)
        case .exchangeBinding(let destination, let source, let routingKey, let arguments):
            try await channel.exchangeBind(
                destination: destination,
                source: source,
                routingKey: routingKey,
                arguments: arguments
            )
        }
    }
}
