import AMQPProtocol
import NIOCore

/// One channel's protocol as a value type: open/close, replies to synchronous methods (in order),
/// content assembly (method, header, body frames), publisher confirms, consumer cancellation.
/// Events return the action the channel handler performs; no I/O here.
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
        case returned(AMQPReturnedMessage)
        case confirm(deliveryTag: UInt64, multiple: Bool, acknowledged: Bool)
        /// The broker cancelled a consumer; `reply` is the `cancel-ok` to send, if any.
        case consumerCancelled(consumerTag: String, reply: AMQPFrame?)
        case send([AMQPFrame])
        /// The broker closed the channel: send `reply` (close-ok) and fail everything of the channel.
        case closedByServer(AMQPClose, reply: AMQPFrame)
        /// Our close was confirmed: fail what is left and forget the channel.
        case closed
        /// The broker broke the protocol on this channel: close the connection.
        case connectionViolation(String)
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

    /// A message was published; returns its confirm delivery tag when the channel is in confirm mode.
    mutating func messagePublished() -> UInt64? {
        guard self.confirmMode else { return nil }
        defer { self.nextPublishTag += 1 }
        return self.nextPublishTag
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
                return .closed
            case .channel(.close(let close)):
                self.state = .closed
                return .closedByServer(close, reply: .method(channel: self.channelID, .channel(.closeOk)))
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
                self.state = .closed
                return .closedByServer(close, reply: .method(channel: self.channelID, .channel(.closeOk)))
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
            self.state = .closed
            return .closedByServer(close, reply: .method(channel: self.channelID, .channel(.closeOk)))
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
            return .confirm(deliveryTag: tag, multiple: multiple, acknowledged: true)
        case .basic(.nack(let tag, let multiple, _)):
            return .confirm(deliveryTag: tag, multiple: multiple, acknowledged: false)
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
            return .returned(
                AMQPReturnedMessage(
                    replyCode: returned.replyCode,
                    replyText: returned.replyText,
                    exchange: returned.exchange,
                    routingKey: returned.routingKey,
                    properties: header.properties,
                    body: body
                )
            )
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
