import AMQPClient
import Logging
import Messaging
import Metrics
import MongoStore
import ServiceLifecycle

/// The notification delivery flow as a `Service`: creates the collection's indexes, then consumes
/// `create_notification` from `notification_queue` (store once, push, unread count) until shutdown.
public final class NotificationFlow: Service, Sendable {
    public static let queue = "notification_queue"
    public static let pattern = "create_notification"

    let store: NotificationStore
    let delivery: NotificationDelivery
    let consumer: QueueConsumer
    let logger: Logger

    public init(
        store: NotificationStore,
        delivery: NotificationDelivery,
        broker: AMQPClient,
        consumer configuration: QueueConsumer.Configuration = .init(
            topology: QueueTopology(queue: NotificationFlow.queue)),
        logger: Logger
    ) {
        self.store = store
        self.delivery = delivery
        self.logger = logger
        self.consumer = QueueConsumer(
            configuration: configuration,
            client: broker,
            handlers: [Self.handler(store: store, delivery: delivery)],
            logger: logger
        )
    }

    /// Whether the indexes exist and the consumer is registered.
    public var isReady: Bool { self.consumer.isReady }

    public func run() async throws {
        var backoff = Duration.milliseconds(250)
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            do {
                try await self.store.ensureIndexes()
                break
            } catch {
                self.logger.warning(
                    "notifications: cannot create indexes yet; retrying",
                    metadata: ["error": "\(error)", "retry_in": "\(backoff)"])
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(10))
            }
        }
        try await self.consumer.run()
    }

    /// `create_notification`: validate, store once, push to the user's sockets, tell the new unread
    /// count. Invalid payloads are permanent failures (dead-lettered with the reason); a MongoDB
    /// failure is transient (retried with backoff).
    static func handler(store: NotificationStore, delivery: NotificationDelivery) -> MessageHandler {
        MessageHandler(
            pattern: Self.pattern,
            payload: CreateNotificationRequest.self,
            messageType: Self.metricType,
            body: { payload, context in
                let type = Self.metricType(payload)
                let request: CreateNotificationRequest.Valid
                do {
                    request = try payload.validated()
                } catch {
                    Self.created(type, "failed")
                    throw MessageHandlingError.permanent("invalid create_notification: \(error)")
                }
                let stored: (notification: Notification, created: Bool)
                do {
                    stored = try await store.create(request, messageID: context.idempotencyKey)
                } catch {
                    Self.created(type, "failed")
                    throw MessageHandlingError.transient("storing the notification failed: \(error)")
                }
                if stored.created {
                    Self.created(type, "success")
                }
                if !stored.notification.delivered {
                    await delivery.push(stored.notification)
                }
                if stored.created {
                    await delivery.unreadCountChanged(userID: request.userID)
                }
            })
    }

    /// The payload's `type` as a metric tag: `unknown` when absent or not a plausible type.
    @Sendable static func metricType(_ payload: CreateNotificationRequest) -> String {
        guard let type = payload.type, !type.isEmpty, type.count <= CreateNotificationRequest.maxTypeLength else {
            return "unknown"
        }
        return type
    }

    private static func created(_ type: String, _ status: String) {
        Counter(label: "notification.created", dimensions: [("notification_type", type), ("status", status)])
            .increment()
    }
}
