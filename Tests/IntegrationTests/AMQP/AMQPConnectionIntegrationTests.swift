import AMQPClient
import AMQPProtocol
import NIOCore
import Testing

/// The client against the local RabbitMQ: what the broker holds and answers afterwards.
@Suite("AMQP client against RabbitMQ")
struct AMQPConnectionIntegrationTests {
    func connect() async throws -> AMQPConnection {
        try await AMQPConnection.connect(
            configuration: try AMQPConnectionConfiguration(uri: TestEnvironment.rabbitMQURI))
    }

    @Test func publishedMessageKeepsEveryPropertyAndHeaderType() async throws {
        try await BrokerLock.shared {
            let connection = try await self.connect()
            let channel = try await connection.openChannel()
            let queue = TestEnvironment.uniqueName("test.properties")
            try await channel.queueDeclare(queue, durable: false, autoDelete: true)
            try await channel.confirmSelect()
            let headers: AMQPFieldTable = [
                "bool": .bool(true), "int8": .int8(-8), "uint8": .uint8(200), "int16": .int16(-1600),
                "uint16": .uint16(60000), "int32": .int32(-320_000), "uint32": .uint32(4_000_000_000),
                "int64": .int64(Int64.min), "float": .float(1.5), "double": .double(-2.25),
                "decimal": .decimal(scale: 2, value: 12345), "string": .longString("héllo ✓"),
                "bytes": .bytes([0, 1, 255]), "array": .array([.int32(1), .longString("two"), .bool(false)]),
                "timestamp": .timestamp(1_700_000_000), "table": .table(["nested": .int64(42)]), "void": .void,
            ]
            let properties = AMQPBasicProperties(
                contentType: "application/json",
                contentEncoding: "utf-8",
                headers: headers,
                deliveryMode: 2,
                priority: 5,
                correlationID: "corr-1",
                replyTo: "replies",
                expiration: "60000",
                messageID: "msg-1",
                timestamp: 1_700_000_001,
                type: "create_notification",
                userID: "guest",
                appID: "decode-async-tests",
                clusterID: ""
            )
            try await channel.publish(
                ByteBuffer(string: #"{"pattern":"x"}"#), routingKey: queue, properties: properties)
            let result = try #require(try await channel.get(queue: queue, noAck: true))
            #expect(String(buffer: result.delivery.body) == #"{"pattern":"x"}"#)
            #expect(result.delivery.routingKey == queue)
            #expect(result.messageCount == 0)
            var expected = properties
            expected.clusterID = nil  // RabbitMQ does not pass cluster-id through
            var received = result.delivery.properties
            received.clusterID = nil
            #expect(received == expected)
            #expect(try await channel.get(queue: queue) == nil)
            await connection.close()
        }
    }

    @Test func consumeAndAckEmptiesTheQueue() async throws {
        try await BrokerLock.shared {
            let connection = try await self.connect()
            let channel = try await connection.openChannel()
            let queue = TestEnvironment.uniqueName("test.consume")
            try await channel.queueDeclare(queue, durable: false, autoDelete: false)
            try await channel.confirmSelect()
            for index in 0..<50 {
                try await channel.publish(ByteBuffer(string: "message \(index)"), routingKey: queue)
            }
            #expect(try await channel.queueDeclare(queue, passive: true).messageCount == 50)

            let consumerChannel = try await connection.openChannel()
            try await consumerChannel.basicQos(prefetchCount: 10)
            let consumer = try await consumerChannel.consume(queue: queue)
            var bodies: [String] = []
            for try await delivery in consumer {
                bodies.append(String(buffer: delivery.body))
                consumerChannel.ack(deliveryTag: delivery.deliveryTag)
                if bodies.count == 50 { break }
            }
            #expect(bodies == (0..<50).map { "message \($0)" })
            try await consumer.cancel()
            await consumerChannel.close()
            #expect(try await channel.queueDeclare(queue, passive: true).messageCount == 0)
            try await channel.queueDelete(queue)
            await connection.close()
        }
    }

    @Test func channelErrorCarriesReplyCodeAndClosesOnlyThatChannel() async throws {
        try await BrokerLock.shared {
            let connection = try await self.connect()
            let channel = try await connection.openChannel()
            let missing = TestEnvironment.uniqueName("test.missing")
            let notFound = await #expect(throws: AMQPClientError.self) {
                try await channel.queueDeclare(missing, passive: true)
            }
            #expect(notFound?.code == .channelClosedByServer)
            #expect(notFound?.replyCode == 404)
            #expect(notFound?.replyText?.hasPrefix("NOT_FOUND") == true)
            // The channel is gone, the connection is not.
            let closed = await #expect(throws: AMQPClientError.self) { try await channel.queuePurge(missing) }
            #expect(closed?.code == .channelClosed)

            let second = try await connection.openChannel()
            let queue = TestEnvironment.uniqueName("test.precondition")
            try await second.queueDeclare(queue, durable: true, autoDelete: true)
            let precondition = await #expect(throws: AMQPClientError.self) {
                try await second.queueDeclare(queue, durable: false, autoDelete: true)
            }
            #expect(precondition?.replyCode == 406)
            #expect(precondition?.replyText?.hasPrefix("PRECONDITION_FAILED") == true)
            #expect(connection.isOpen)
            let third = try await connection.openChannel()
            try await third.queueDelete(queue)
            await connection.close()
        }
    }

    @Test func unroutableMandatoryPublishIsReturnedAndFails() async throws {
        try await BrokerLock.shared {
            let connection = try await self.connect()
            let channel = try await connection.openChannel()
            let returns = channel.returnedMessages()
            try await channel.confirmSelect()
            let routingKey = TestEnvironment.uniqueName("test.nowhere")
            let error = await #expect(throws: AMQPClientError.self) {
                try await channel.publish(
                    ByteBuffer(string: "lost?"),
                    routingKey: routingKey,
                    mandatory: true,
                    properties: AMQPBasicProperties(messageID: "unroutable-1")
                )
            }
            #expect(error?.code == .unroutable)
            #expect(error?.replyCode == 312)
            var iterator = returns.makeAsyncIterator()
            let returned = try #require(await iterator.next())
            #expect(returned.routingKey == routingKey)
            #expect(returned.replyText == "NO_ROUTE")
            #expect(String(buffer: returned.body) == "lost?")
            await connection.close()
        }
    }

    @Test func nackWithRequeueRedelivers() async throws {
        try await BrokerLock.shared {
            let connection = try await self.connect()
            let channel = try await connection.openChannel()
            let queue = TestEnvironment.uniqueName("test.nack")
            try await channel.queueDeclare(queue, durable: false, autoDelete: true)
            try await channel.publish(ByteBuffer(string: "again"), routingKey: queue)
            try await channel.basicQos(prefetchCount: 1)
            let consumer = try await channel.consume(queue: queue)
            var seen: [(String, Bool)] = []
            for try await delivery in consumer {
                seen.append((String(buffer: delivery.body), delivery.redelivered))
                if seen.count == 1 {
                    channel.nack(deliveryTag: delivery.deliveryTag, requeue: true)
                } else {
                    channel.ack(deliveryTag: delivery.deliveryTag)
                    break
                }
            }
            #expect(seen.map(\.0) == ["again", "again"])
            #expect(seen.map(\.1) == [false, true])
            await connection.close()
        }
    }

    @Test func bodiesLargerThanAFrameAreSplitAndJoined() async throws {
        try await BrokerLock.shared {
            let connection = try await AMQPConnection.connect(
                configuration: try AMQPConnectionConfiguration(uri: TestEnvironment.rabbitMQURI + "?frame_max=8192")
            )
            let channel = try await connection.openChannel()
            let queue = TestEnvironment.uniqueName("test.large")
            try await channel.queueDeclare(queue, durable: false, autoDelete: true)
            try await channel.confirmSelect()
            let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            try await channel.publish(ByteBuffer(bytes: bytes), routingKey: queue)
            let result = try #require(try await channel.get(queue: queue, noAck: true))
            #expect(Array(buffer: result.delivery.body) == bytes)
            await connection.close()
        }
    }

    @Test func consumerCancelledByTheBrokerEndsTheSequenceWithAnError() async throws {
        try await BrokerLock.shared {
            let connection = try await self.connect()
            let channel = try await connection.openChannel()
            let queue = TestEnvironment.uniqueName("test.cancel")
            try await channel.queueDeclare(queue, durable: false)
            let consumer = try await channel.consume(queue: queue)
            let admin = try await connection.openChannel()
            try await admin.queueDelete(queue)
            let error = await #expect(throws: AMQPClientError.self) {
                for try await _ in consumer {}
            }
            #expect(error?.code == .consumerCancelled)
            // The channel survives a server-side cancel.
            try await channel.queueDeclare(
                TestEnvironment.uniqueName("test.after-cancel"), durable: false, autoDelete: true)
            await connection.close()
        }
    }

    @Test func exchangesAndBindingsRoute() async throws {
        try await BrokerLock.shared {
            let connection = try await self.connect()
            let channel = try await connection.openChannel()
            let exchange = TestEnvironment.uniqueName("test.topic")
            let queue = TestEnvironment.uniqueName("test.bound")
            try await channel.exchangeDeclare(exchange, type: "topic", durable: false, autoDelete: false)
            try await channel.queueDeclare(queue, durable: false, autoDelete: true)
            try await channel.queueBind(queue, exchange: exchange, routingKey: "user.*")
            try await channel.confirmSelect()
            try await channel.publish(ByteBuffer(string: "a"), exchange: exchange, routingKey: "user.created")
            try await channel.publish(ByteBuffer(string: "b"), exchange: exchange, routingKey: "email.sent")
            #expect(try await channel.queueDeclare(queue, passive: true).messageCount == 1)
            try await channel.queueUnbind(queue, exchange: exchange, routingKey: "user.*")
            try await channel.publish(ByteBuffer(string: "c"), exchange: exchange, routingKey: "user.updated")
            #expect(try await channel.queuePurge(queue) == 1)
            try await channel.exchangeDelete(exchange)
            await connection.close()
        }
    }

    @Test func wrongPasswordIsAnAuthenticationFailure() async throws {
        try await BrokerLock.shared {
            var configuration = try AMQPConnectionConfiguration(uri: TestEnvironment.rabbitMQURI)
            configuration.password = "definitely-wrong"
            let error = await #expect(throws: AMQPClientError.self) {
                _ = try await AMQPConnection.connect(configuration: configuration)
            }
            #expect(error?.code == .authenticationFailed)
            #expect(error.map { String(describing: $0).contains("definitely-wrong") } == false)
        }
    }

    @Test func amqplainLogsIn() async throws {
        try await BrokerLock.shared {
            var configuration = try AMQPConnectionConfiguration(uri: TestEnvironment.rabbitMQURI)
            configuration.authMechanism = .amqplain
            let connection = try await AMQPConnection.connect(configuration: configuration)
            #expect(connection.isOpen)
            await connection.close()
            #expect(!connection.isOpen)
            #expect(await connection.closed().code == .connectionClosed)
        }
    }
}
