import NIOCore

/// One AMQP 0-9-1 frame (section 4.2.3): a method, a content header, a body slice, or a heartbeat.
public enum AMQPFrame: Sendable, Hashable {
    /// A method frame: a command such as `basic.publish` or `channel.open`.
    case method(channel: UInt16, AMQPMethod)
    /// A content header frame: the body size and properties of the message that follows a method.
    case header(channel: UInt16, AMQPContentHeader)
    /// A content body frame: one slice of a message body, at most `frame_max` minus 8 bytes.
    case body(channel: UInt16, ByteBuffer)
    /// A heartbeat frame on channel 0, which keeps an idle connection alive.
    case heartbeat

    /// The bytes a client sends before its first frame: `AMQP` 0 0 9 1.
    public static let protocolHeader: [UInt8] = [0x41, 0x4D, 0x51, 0x50, 0, 0, 9, 1]

    /// Type octet, channel, size and frame-end: the bytes a frame adds around its payload.
    public static let overhead = 8

    static let frameEnd: UInt8 = 0xCE

    enum FrameType: UInt8 {
        case method = 1
        case header = 2
        case body = 3
        case heartbeat = 8
    }

    /// The channel the frame belongs to (0 for connection-level frames).
    public var channel: UInt16 {
        switch self {
        case .method(let channel, _), .header(let channel, _), .body(let channel, _): channel
        case .heartbeat: 0
        }
    }

    /// Writes the whole frame.
    public func encode(into buffer: inout ByteBuffer) throws(AMQPProtocolError) {
        let type: FrameType
        switch self {
        case .method: type = .method
        case .header: type = .header
        case .body: type = .body
        case .heartbeat: type = .heartbeat
        }
        buffer.writeInteger(type.rawValue)
        buffer.writeInteger(self.channel)
        let sizeIndex = buffer.writerIndex
        buffer.writeInteger(UInt32(0))
        let payloadStart = buffer.writerIndex
        switch self {
        case .method(_, let method): try method.encode(into: &buffer)
        case .header(_, let header): try header.encode(into: &buffer)
        case .body(_, let body): buffer.writeImmutableBuffer(body)
        case .heartbeat: break
        }
        buffer.setInteger(UInt32(buffer.writerIndex - payloadStart), at: sizeIndex)
        buffer.writeInteger(Self.frameEnd)
    }

    /// Decodes one frame's payload of type `type` on `channel`.
    static func decodePayload(
        type: UInt8,
        channel: UInt16,
        payload: inout ByteBuffer
    ) throws(AMQPProtocolError) -> AMQPFrame {
        switch FrameType(rawValue: type) {
        case .method:
            let method = try AMQPMethod.decode(from: &payload)
            guard payload.readableBytes == 0 else {
                throw AMQPProtocolError("\(payload.readableBytes) bytes left after method \(method.ids)")
            }
            return .method(channel: channel, method)
        case .header:
            return .header(channel: channel, try AMQPContentHeader.decode(from: &payload))
        case .body:
            return .body(channel: channel, payload)
        case .heartbeat:
            guard channel == 0 else { throw AMQPProtocolError("heartbeat on channel \(channel)") }
            return .heartbeat
        case .none:
            throw AMQPProtocolError("unknown frame type \(type)")
        }
    }
}
