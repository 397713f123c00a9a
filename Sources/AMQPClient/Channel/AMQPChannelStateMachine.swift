import AMQPProtocol
import DequeModule
import NIOCore

/// One channel's protocol as a value type: open/close, replies to synchronous methods (in order),
/// content assembly (method, header, body frames), publisher confirms with their promises, returns,
/// consumer cancellation. Events return the action the channel handler performs; no I/O here.
struct AMQPChannelStateMachine {
    enum State: Equatable {
        case opening
        case open
        case closing
        case closed
    }

    enum Action {
        case none
        case opened
        /// The reply to the oldest pending synchronous request.
        case replyReceived(AMQPMethod)
        /// The reply to a pending `basic.get` (nil: `get-empty`).
        case getReceived(AMQPGetResult?)
        case deliver(AMQPDelivery)
        /// A mandatory message came back: hand it to the return stream (its publish fails at its confirm).
        case returned(AMQPReturnedMessage)
        /// A confirm settled these publishes: complete each promise with its result.
        case completePublishes([PublishCompletion])
        /// The broker cancelled a consumer; `reply` is the `cancel-ok` to send, if any.
        case consumerCancelled(consumerTag: String, reply: AMQPFrame?)
        case send([AMQPFrame])
        /// The broker closed the channel: send `reply` (close-ok) and fail everything of the channel,
        /// `unconfirmed` publishes included.
        case closedByServer(AMQPClose, reply: AMQPFrame, unconfirmed: [EventLoopPromise<Void>])
        /// Our close was confirmed: fail what is left (`unconfirmed` publishes included) and forget the channel.
        case closed(unconfirmed: [EventLoopPromise<Void>])
        /// The broker broke the protocol on this channel: close the connection.
        case connectionViolation(String)
    }

    /// A publish's promise and how the broker settled it.
    struct PublishCompletion {
        var promise: EventLoopPromise<Void>
        var result: Result<Void, AMQPClientError>
    }

    /// A publish awaiting its confirm.
    private struct PendingPublish {
        var deliveryTag: UInt64
        var promise: EventLoopPromise<Void>
    }

    private enum Incoming {
        case deliver(AMQPMethod.Basic.Deliver)
        case returned(AMQPMethod.Basic.Return)
        case getOk(AMQPMethod.Basic.GetOk)
    }

    let channelID: UInt16
    private(set) var state: State = .opening
    private(set) var pendingReplies = 0
    private(set) var confirmMode = false
    private(set) var nextPublishTag: UInt64 = 1
    /// Publishes awaiting a confirm, in delivery-tag order.
    private var unconfirmed = Deque<PendingPublish>()
    /// A `basic.return` that arrived since the last confirm: RabbitMQ sends a mandatory publish's
    /// return just before its confirm, so the next `basic.ack` names the returned publish's tag.
    private var returnAwaitingConfirm: AMQPReturnedMessage?
    private var incoming: Incoming?
    private var header: AMQPContentHeader?
    private var body = ByteBuffer()

    init(channelID: UInt16) {
        self.channelID = channelID
    }

    /// Whether requests may be sent.
    var isOpen: Bool { self.state == .open }

    // MARK: Outbound events

    /// A synchronous request was sent; its reply will arrive in order.
    mutating func requestSent() {
        self.pendingReplies += 1
    }

    /// Publishes awaiting a confirm.
    var unconfirmedCount: Int { self.unconfirmed.count }

    /// A message was written (call only once its frames were encoded: a publish the broker never saw
    /// must not take a delivery tag). In confirm mode the machine keeps `promise` until the broker
    /// settles the message and returns its delivery tag; otherwise returns nil and the caller
    /// completes `promise` itself.
    mutating func messagePublished(confirmed promise: EventLoopPromise<Void>) -> UInt64? {
        guard self.confirmMode else { return nil }
        let tag = self.nextPublishTag
        self.nextPublishTag += 1
        self.unconfirmed.append(PendingPublish(deliveryTag: tag, promise: promise))
        return tag
    }

    /// The connection is gone: the channel is closed and its unconfirmed publishes are returned to fail.
    mutating func connectionClosed() -> [EventLoopPromise<Void>] {
        self.state = .closed
        return self.takeUnconfirmed()
    }

    mutating func closeRequested() -> Action {
        switch self.state {
        case .opening, .open:
            self.state = .closing
            return .send([
                .method(channel: self.channelID, .channel(.close(AMQPClose(replyCode: 200, replyText: "OK"))))
            ])
        case .closing, .closed:
            return .none
        }
    }

    // MARK: Inbound events

    mutating func frameReceived(_ frame: AMQPFrame) -> Action {
        switch frame {
        case .method(_, let method): return self.methodReceived(method)
        case .header(_, let header): return self.headerReceived(header)
        case .body(_, let body): return self.bodyReceived(body)
        case .heartbeat: return .connectionViolation("heartbeat on a channel")
        }
    }

    private mutating func methodReceived(_ method: AMQPMethod) -> Action {
        guard self.incoming == nil else {
            return .connectionViolation("method \(method.ids) while a content was incomplete")
        }
        switch self.state {
        case .closed:
            return .none
        case .closing:
            switch method {
            case .channel(.closeOk):
                self.state = .closed
                return .closed(unconfirmed: self.takeUnconfirmed())
            case .channel(.close(let close)):
                return self.serverClosed(close)
            case _ where Self.content(of: method) != nil:
                // Discarded, but its header and body frames still follow and must be swallowed.
                self.incoming = Self.content(of: method)
                return .none
            default:
                // Section 2.2.4: after sending close, discard everything but close / close-ok.
                return .none
            }
        case .opening:
            switch method {
            case .channel(.openOk):
                self.state = .open
                return .opened
            case .channel(.close(let close)):
                return self.serverClosed(close)
            default:
                return .connectionViolation("method \(method.ids) before channel.open-ok")
            }
        case .open:
            return self.openMethodReceived(method)
        }
    }

    private mutating func openMethodReceived(_ method: AMQPMethod) -> Action {
        switch method {
        case .channel(.close(let close)):
            return self.serverClosed(close)
        case .channel(.flow(let active)):
            return .send([.method(channel: self.channelID, .channel(.flowOk(active: active)))])
        case .basic(.deliver), .basic(.return):
            self.incoming = Self.content(of: method)
            return .none
        case .basic(.getOk):
            guard self.pendingReplies > 0 else { return .connectionViolation("get-ok without a get") }
            self.incoming = Self.content(of: method)
            return .none
        case .basic(.getEmpty):
            guard self.pendingReplies > 0 else { return .connectionViolation("get-empty without a get") }
            self.pendingReplies -= 1
            return .getReceived(nil)
        case .basic(.ack(let tag, let multiple)):
            return self.confirmReceived(deliveryTag: tag, multiple: multiple, acknowledged: true)
        case .basic(.nack(let tag, let multiple, _)):
            return self.confirmReceived(deliveryTag: tag, multiple: multiple, acknowledged: false)
        case .basic(.cancel(let consumerTag, let noWait)):
            let reply: AMQPFrame? =
                noWait ? nil : .method(channel: self.channelID, .basic(.cancelOk(consumerTag: consumerTag)))
            return .consumerCancelled(consumerTag: consumerTag, reply: reply)
        case .confirm(.selectOk):
            self.confirmMode = true
            return self.reply(method)
        case .exchange(.declareOk), .exchange(.deleteOk), .exchange(.bindOk), .exchange(.unbindOk),
            .queue(.declareOk), .queue(.bindOk), .queue(.unbindOk), .queue(.purgeOk), .queue(.deleteOk),
            .basic(.qosOk), .basic(.consumeOk), .basic(.cancelOk), .basic(.recoverOk),
            .tx(.selectOk), .tx(.commitOk), .tx(.rollbackOk), .channel(.flowOk):
            return self.reply(method)
        default:
            return .connectionViolation("unexpected method \(method.ids) on an open channel")
        }
    }

    private mutating func serverClosed(_ close: AMQPClose) -> Action {
        self.state = .closed
        return .closedByServer(
            close,
            reply: .method(channel: self.channelID, .channel(.closeOk)),
            unconfirmed: self.takeUnconfirmed()
        )
    }

    private mutating func takeUnconfirmed() -> [EventLoopPromise<Void>] {
        let promises = self.unconfirmed.map(\.promise)
        self.unconfirmed.removeAll()
        self.returnAwaitingConfirm = nil
        return promises
    }

    // MARK: Confirms

    /// Settles the publishes a `basic.ack`/`basic.nack` names (`multiple`: every one up to `tag`).
    /// After a `basic.return`, the publish with exactly this confirm's tag was the returned one
    /// (RabbitMQ confirms an unroutable message at once, right after returning it): it fails with
    /// `unroutable` whatever its properties; the others a `multiple` ack covers succeed.
    private mutating func confirmReceived(deliveryTag tag: UInt64, multiple: Bool, acknowledged: Bool) -> Action {
        let returned = self.returnAwaitingConfirm
        self.returnAwaitingConfirm = nil
        var settled: [PendingPublish] = []
        if multiple {
            while let first = self.unconfirmed.first, first.deliveryTag <= tag {
                settled.append(self.unconfirmed.removeFirst())
            }
        } else if let index = self.unconfirmed.firstIndex(where: { $0.deliveryTag == tag }) {
            settled.append(self.unconfirmed.remove(at: index))
        }
        guard !settled.isEmpty else { return .none }
        return .completePublishes(
            settled.map { publish in
                let result: Result<Void, AMQPClientError>
                if !acknowledged {
                    result = .failure(AMQPClientError(.publishNacked, message: "the broker refused the message"))
                } else if let returned, publish.deliveryTag == tag {
                    result = .failure(
                        AMQPClientError(
                            .unroutable,
                            replyCode: returned.replyCode,
                            replyText: returned.replyText,
                            message: "exchange '\(returned.exchange)', routing key '\(returned.routingKey)'"
                        )
                    )
                } else {
                    result = .success(())
                }
                return PublishCompletion(promise: publish.promise, result: result)
            }
        )
    }

    /// The content a method announces (its header and body frames follow).
    private static func content(of method: AMQPMethod) -> Incoming? {
        switch method {
        case .basic(.deliver(let deliver)): .deliver(deliver)
        case .basic(.return(let returned)): .returned(returned)
        case .basic(.getOk(let getOk)): .getOk(getOk)
        default: nil
        }
    }

    private mutating func reply(_ method: AMQPMethod) -> Action {
        guard self.pendingReplies > 0 else {
            return .connectionViolation("reply \(method.ids) without a request")
        }
        self.pendingReplies -= 1
        return .replyReceived(method)
    }

    private mutating func headerReceived(_ header: AMQPContentHeader) -> Action {
        guard self.incoming != nil, self.header == nil else {
            return .connectionViolation("content header without a content method")
        }
        self.header = header
        self.body = ByteBuffer()
        return header.bodySize == 0 ? self.completeContent() : .none
    }

    private mutating func bodyReceived(_ chunk: ByteBuffer) -> Action {
        guard let header = self.header else {
            return .connectionViolation("body frame without a content header")
        }
        var chunk = chunk
        self.body.writeBuffer(&chunk)
        if self.body.readableBytes > header.bodySize {
            return .connectionViolation("body longer than its header announced")
        }
        return self.body.readableBytes == header.bodySize ? self.completeContent() : .none
    }

    private mutating func completeContent() -> Action {
        guard let incoming = self.incoming, let header = self.header else { return .none }
        let body = self.body
        self.incoming = nil
        self.header = nil
        self.body = ByteBuffer()
        if self.state != .open {
            return .none
        }
        switch incoming {
        case .deliver(let deliver):
            return .deliver(
                AMQPDelivery(
                    deliveryTag: deliver.deliveryTag,
                    redelivered: deliver.redelivered,
                    exchange: deliver.exchange,
                    routingKey: deliver.routingKey,
                    properties: header.properties,
                    body: body,
                    consumerTag: deliver.consumerTag
                )
            )
        case .returned(let returned):
            let message = AMQPReturnedMessage(
                replyCode: returned.replyCode,
                replyText: returned.replyText,
                exchange: returned.exchange,
                routingKey: returned.routingKey,
                properties: header.properties,
                body: body
            )
            if !self.unconfirmed.isEmpty {
                self.returnAwaitingConfirm = message
            }
            return .returned(message)
        case .getOk(let getOk):
            self.pendingReplies -= 1
            let delivery = AMQPDelivery(
                deliveryTag: getOk.deliveryTag,
                redelivered: getOk.redelivered,
                exchange: getOk.exchange,
                routingKey: getOk.routingKey,
                properties: header.properties,
                body: body
            )
            return .getReceived(AMQPGetResult(delivery: delivery, messageCount: getOk.messageCount))
        }
    }
}
