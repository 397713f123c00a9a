import NIOCore

/// The fourteen content properties of the `basic` class, each optional.
public struct AMQPBasicProperties: Sendable, Hashable {
    /// The MIME type of the body, e.g. `application/json`.
    public var contentType: String?
    /// The body's encoding, e.g. `gzip`; `nil` for plain bytes.
    public var contentEncoding: String?
    /// Application headers, read by `headers` exchanges and by consumers.
    public var headers: AMQPFieldTable?
    /// 1 = transient, 2 = persistent.
    public var deliveryMode: UInt8?
    /// The message priority (0-9 in the spec); RabbitMQ honours it only on queues with `x-max-priority`.
    public var priority: UInt8?
    /// Ties a reply to its request in RPC patterns.
    public var correlationID: String?
    /// The queue a reply should be sent to.
    public var replyTo: String?
    /// Per-message TTL in milliseconds, as a decimal string.
    public var expiration: String?
    /// An application-chosen message identifier.
    public var messageID: String?
    /// Seconds since 1970.
    public var timestamp: UInt64?
    /// An application-chosen message type name.
    public var type: String?
    /// The publishing user; RabbitMQ rejects the message when it differs from the connection's user.
    public var userID: String?
    /// The publishing application's name.
    public var appID: String?
    /// Deprecated in 0-9-1; kept so every property round-trips.
    public var clusterID: String?

    /// Properties with every field unset (what NestJS `emit` sends).
    public init(
        contentType: String? = nil,
        contentEncoding: String? = nil,
        headers: AMQPFieldTable? = nil,
        deliveryMode: UInt8? = nil,
        priority: UInt8? = nil,
        correlationID: String? = nil,
        replyTo: String? = nil,
        expiration: String? = nil,
        messageID: String? = nil,
        timestamp: UInt64? = nil,
        type: String? = nil,
        userID: String? = nil,
        appID: String? = nil,
        clusterID: String? = nil
    ) {
        self.contentType = contentType
        self.contentEncoding = contentEncoding
        self.headers = headers
        self.deliveryMode = deliveryMode
        self.priority = priority
        self.correlationID = correlationID
        self.replyTo = replyTo
        self.expiration = expiration
        self.messageID = messageID
        self.timestamp = timestamp
        self.type = type
        self.userID = userID
        self.appID = appID
        self.clusterID = clusterID
    }

    /// Whether `delivery_mode` is 2.
    public var isPersistent: Bool { self.deliveryMode == 2 }

    // Flag bits, highest first (section 4.2.6.1).
    private enum Flag {
        static let contentType: UInt16 = 1 << 15
        static let contentEncoding: UInt16 = 1 << 14
        static let headers: UInt16 = 1 << 13
        static let deliveryMode: UInt16 = 1 << 12
        static let priority: UInt16 = 1 << 11
        static let correlationID: UInt16 = 1 << 10
        static let replyTo: UInt16 = 1 << 9
        static let expiration: UInt16 = 1 << 8
        static let messageID: UInt16 = 1 << 7
        static let timestamp: UInt16 = 1 << 6
        static let type: UInt16 = 1 << 5
        static let userID: UInt16 = 1 << 4
        static let appID: UInt16 = 1 << 3
        static let clusterID: UInt16 = 1 << 2
    }

    func encode(into buffer: inout ByteBuffer) throws(AMQPProtocolError) {
        var flags: UInt16 = 0
        let flagIndex = buffer.writerIndex
        buffer.writeInteger(flags)
        if let contentType {
            flags |= Flag.contentType
            try buffer.writeAMQPShortString(contentType)
        }
        if let contentEncoding {
            flags |= Flag.contentEncoding
            try buffer.writeAMQPShortString(contentEncoding)
        }
        if let headers {
            flags |= Flag.headers
            try buffer.writeAMQPTable(headers)
        }
        if let deliveryMode {
            flags |= Flag.deliveryMode
            buffer.writeInteger(deliveryMode)
        }
        if let priority {
            flags |= Flag.priority
            buffer.writeInteger(priority)
        }
        if let correlationID {
            flags |= Flag.correlationID
            try buffer.writeAMQPShortString(correlationID)
        }
        if let replyTo {
            flags |= Flag.replyTo
            try buffer.writeAMQPShortString(replyTo)
        }
        if let expiration {
            flags |= Flag.expiration
            try buffer.writeAMQPShortString(expiration)
        }
        if let messageID {
            flags |= Flag.messageID
            try buffer.writeAMQPShortString(messageID)
        }
        if let timestamp {
            flags |= Flag.timestamp
            buffer.writeInteger(timestamp)
        }
        if let type {
            flags |= Flag.type
            try buffer.writeAMQPShortString(type)
        }
        if let userID {
            flags |= Flag.userID
            try buffer.writeAMQPShortString(userID)
        }
        if let appID {
            flags |= Flag.appID
            try buffer.writeAMQPShortString(appID)
        }
        if let clusterID {
            flags |= Flag.clusterID
            try buffer.writeAMQPShortString(clusterID)
        }
        buffer.setInteger(flags, at: flagIndex)
    }

    static func decode(from buffer: inout ByteBuffer) throws(AMQPProtocolError) -> AMQPBasicProperties {
        let flags = try buffer.readAMQPShort()
        guard flags & 1 == 0 else {
            throw AMQPProtocolError("continued property flags are not defined for the basic class")
        }
        var properties = AMQPBasicProperties()
        if flags & Flag.contentType != 0 { properties.contentType = try buffer.readAMQPShortString() }
        if flags & Flag.contentEncoding != 0 { properties.contentEncoding = try buffer.readAMQPShortString() }
        if flags & Flag.headers != 0 { properties.headers = try buffer.readAMQPTable() }
        if flags & Flag.deliveryMode != 0 { properties.deliveryMode = try buffer.readAMQPOctet() }
        if flags & Flag.priority != 0 { properties.priority = try buffer.readAMQPOctet() }
        if flags & Flag.correlationID != 0 { properties.correlationID = try buffer.readAMQPShortString() }
        if flags & Flag.replyTo != 0 { properties.replyTo = try buffer.readAMQPShortString() }
        if flags & Flag.expiration != 0 { properties.expiration = try buffer.readAMQPShortString() }
        if flags & Flag.messageID != 0 { properties.messageID = try buffer.readAMQPShortString() }
        if flags & Flag.timestamp != 0 { properties.timestamp = try buffer.readAMQPLongLong() }
        if flags & Flag.type != 0 { properties.type = try buffer.readAMQPShortString() }
        if flags & Flag.userID != 0 { properties.userID = try buffer.readAMQPShortString() }
        if flags & Flag.appID != 0 { properties.appID = try buffer.readAMQPShortString() }
        if flags & Flag.clusterID != 0 { properties.clusterID = try buffer.readAMQPShortString() }
        return properties
    }
}

/// The content header frame's payload: which class, how many body bytes follow, and the properties.
public struct AMQPContentHeader: Sendable, Hashable {
    /// The content class; 60 (`basic`) for every message.
    public var classID: UInt16
    /// The total body size in bytes, split across the body frames that follow.
    public var bodySize: UInt64
    /// The message's content properties.
    public var properties: AMQPBasicProperties

    /// Creates a header for a `basic` content of `bodySize` bytes.
    public init(classID: UInt16 = 60, bodySize: UInt64, properties: AMQPBasicProperties) {
        self.classID = classID
        self.bodySize = bodySize
        self.properties = properties
    }

    func encode(into buffer: inout ByteBuffer) throws(AMQPProtocolError) {
        buffer.writeInteger(self.classID)
        buffer.writeInteger(UInt16(0))  // weight
        buffer.writeInteger(self.bodySize)
        try self.properties.encode(into: &buffer)
    }

    static func decode(from buffer: inout ByteBuffer) throws(AMQPProtocolError) -> AMQPContentHeader {
        let classID = try buffer.readAMQPShort()
        _ = try buffer.readAMQPShort()
        let bodySize = try buffer.readAMQPLongLong()
        return AMQPContentHeader(
            classID: classID,
            bodySize: bodySize,
            properties: try AMQPBasicProperties.decode(from: &buffer)
        )
    }
}
