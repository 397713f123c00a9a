import AMQPClient
import FlowKit
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

    let worker: QueueWorker

    public init(
        store: NotificationStore,
        delivery: NotificationDelivery,
        broker: AMQPClient,
        consumer configuration: QueueConsumer.Configuration = .init(
            topology: QueueTopology(queue: NotificationFlow.queue)),
        logger: Logger
    ) {
        let consumer = QueueConsumer(
            configuration: configuration,
            client: broker,
            handlers: [Self.handler(store: store, delivery: delivery)],
            logger: logger
        )
        self.worker = QueueWorker(
            consumer: consumer,
            preparing: "notification indexes",
            prepare: { try await store.ensureIndexes() },
            alongside: [{ await delivery.runRecording() }, { await delivery.runCounting() }],
            afterConsuming: { delivery.finishRecording() },
            logger: logger
        )
    }

    /// Whether the indexes exist and the consumer is registered.
    public var isReady: Bool { self.worker.isReady }

    public func run() async throws {
        try await self.worker.run()
    }

    /// `create_notification`, a batch at a time: validate each message (an invalid one is
    /// dead-lettered alone with the reason), store the valid ones with one `insertMany`, acknowledge
    /// each message whose document is written, then push them to their users' sockets and tell each
    /// online user with a new notification its unread count, once per batch. A store failure is
    /// transient (retried with backoff); a redelivered message continues with what its first delivery
    /// stored (by `message_id`, else by body hash).
    static func handler(store: NotificationStore, delivery: NotificationDelivery) -> MessageHandler {
        MessageHandler(
            pattern: Self.pattern,
            payload: CreateNotificationRequest.self,
            messageType: Self.metricType,
            batch: { batch in
                var entries: [NotificationStore.NewNotification] = []
                var positions: [Int] = []
                for (index, item) in batch.items.enumerated() {
                    do {
                        let request = try item.payload.validated()
                        entries.append(
                            .init(
                                request: request, messageID: item.context.messageID, bodyHash: item.context.bodyHash,
                                mayBeStored: item.context.redelivered || item.context.retryCount > 0))
                        positions.append(index)
                    } catch {
                        Self.created(Self.metricType(item.payload), "failed")
                        await batch.fail(index, MessageHandlingError.permanent("invalid create_notification: \(error)"))
                    }
                }
                guard !entries.isEmpty else { return }
                let outcomes: [Result<(notification: Notification, created: Bool), any Error>]
                do {
                    outcomes = try await store.create(entries)
                } catch {
                    for index in positions {
                        Self.created(Self.metricType(batch.items[index].payload), "failed")
                        await batch.fail(
                            index, MessageHandlingError.transient("storing the notification failed: \(error)"))
                    }
                    return
                }
                var stored: [Int] = []
                var toPush: [Notification] = []
                var pushing: Set<BSONObjectID> = []
                var created: Set<BSONObjectID> = []
                for (offset, outcome) in outcomes.enumerated() {
                    let index = positions[offset]
                    let type = Self.metricType(batch.items[index].payload)
                    switch outcome {
                    case .success(let result):
                        stored.append(index)
                        if result.created {
                            Self.created(type, "success")
                            created.insert(result.notification.userID)
                        }
                        if !result.notification.delivered, pushing.insert(result.notification.id).inserted {
                            toPush.append(result.notification)
                        }
                    case .failure(let error):
                        Self.created(type, "failed")
                        await batch.fail(
                            index, MessageHandlingError.transient("storing the notification failed: \(error)"))
                    }
                }
                // Durable: acknowledge before pushing, so a slow push never holds a message.
                await batch.succeed(stored)
                let online = await delivery.push(batch: toPush)
                // Nobody would receive the new count of a user with no socket anywhere.
                for user in created.intersection(online) {
                    delivery.requestUnreadCount(user)
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
