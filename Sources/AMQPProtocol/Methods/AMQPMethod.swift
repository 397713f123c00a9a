import NIOCore

/// Every AMQP 0-9-1 method, grouped by class (connection, channel, exchange, queue, basic, confirm, tx).
public enum AMQPMethod: Sendable, Hashable {
    /// A `connection` method (class 10): handshake, tuning, close.
    case connection(Connection)
    /// A `channel` method (class 20): open, flow, close.
    case channel(Channel)
    /// An `exchange` method (class 40): declare, delete, bind.
    case exchange(Exchange)
    /// A `queue` method (class 50): declare, bind, purge, delete.
    case queue(Queue)
    /// A `basic` method (class 60): publish, consume, acknowledge.
    case basic(Basic)
    /// A `confirm` method (class 85): publisher confirms.
    case confirm(Confirm)
    /// A `tx` method (class 90): transactions.
    case tx(Tx)

    /// The class and method ids on the wire.
    public var ids: (classID: UInt16, methodID: UInt16) {
        switch self {
        case .connection(let method): (10, method.methodID)
        case .channel(let method): (20, method.methodID)
        case .exchange(let method): (40, method.methodID)
        case .queue(let method): (50, method.methodID)
        case .basic(let method): (60, method.methodID)
        case .confirm(let method): (85, method.methodID)
        case .tx(let method): (90, method.methodID)
        }
    }

    /// Whether a content header and body frames follow this method (publish, return, deliver, get-ok).
    public var hasContent: Bool {
        switch self {
        case .basic(.publish), .basic(.return), .basic(.deliver), .basic(.getOk): true
        default: false
        }
    }

    /// Writes the method payload (class id, method id, arguments).
    public func encode(into buffer: inout ByteBuffer) throws(AMQPProtocolError) {
        let (classID, methodID) = self.ids
        buffer.writeInteger(classID)
        buffer.writeInteger(methodID)
        switch self {
        case .connection(let method): try method.encodeArguments(into: &buffer)
        case .channel(let method): try method.encodeArguments(into: &buffer)
        case .exchange(let method): try method.encodeArguments(into: &buffer)
        case .queue(let method): try method.encodeArguments(into: &buffer)
        case .basic(let method): try method.encodeArguments(into: &buffer)
        case .confirm(let method): method.encodeArguments(into: &buffer)
        case .tx: break
        }
    }

    /// Reads a method payload.
    public static func decode(from buffer: inout ByteBuffer) throws(AMQPProtocolError) -> AMQPMethod {
        let classID = try buffer.readAMQPShort()
        let methodID = try buffer.readAMQPShort()
        switch classID {
        case 10: return .connection(try Connection.decode(methodID: methodID, from: &buffer))
        case 20: return .channel(try Channel.decode(methodID: methodID, from: &buffer))
        case 40: return .exchange(try Exchange.decode(methodID: methodID, from: &buffer))
        case 50: return .queue(try Queue.decode(methodID: methodID, from: &buffer))
        case 60: return .basic(try Basic.decode(methodID: methodID, from: &buffer))
        case 85: return .confirm(try Confirm.decode(methodID: methodID, from: &buffer))
        case 90: return .tx(try Tx.decode(methodID: methodID, from: &buffer))
        default: throw AMQPProtocolError("unknown class \(classID)")
        }
    }

    static func unknown(_ className: String, _ methodID: UInt16) -> AMQPProtocolError {
        AMQPProtocolError("unknown \(className) method \(methodID)")
    }
}

/// The reply code and text of `connection.close` and `channel.close`, and the method that caused it.
public struct AMQPClose: Sendable, Hashable {
    /// The AMQP reply code, e.g. 320 (connection forced), 404 (not found), 406 (precondition failed).
    public var replyCode: UInt16
    /// The broker's or client's human-readable reason.
    public var replyText: String
    /// The class id of the method that caused the close, or 0.
    public var classID: UInt16
    /// The method id of the method that caused the close, or 0.
    public var methodID: UInt16

    /// Creates a close; ids are 0 when the close is not caused by a method.
    public init(replyCode: UInt16, replyText: String, classID: UInt16 = 0, methodID: UInt16 = 0) {
        self.replyCode = replyCode
        self.replyText = replyText
        self.classID = classID
        self.methodID = methodID
    }

    func encode(into buffer: inout ByteBuffer) throws(AMQPProtocolError) {
        buffer.writeInteger(self.replyCode)
        try buffer.writeAMQPShortString(self.replyText)
        buffer.writeInteger(self.classID)
        buffer.writeInteger(self.methodID)
    }

    static func decode(from buffer: inout ByteBuffer) throws(AMQPProtocolError) -> AMQPClose {
        AMQPClose(
            replyCode: try buffer.readAMQPShort(),
            replyText: try buffer.readAMQPShortString(),
            classID: try buffer.readAMQPShort(),
            methodID: try buffer.readAMQPShort()
        )
    }
}
