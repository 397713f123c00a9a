import NIOCore

/// Splits the inbound byte stream into frames; returns nil until a whole frame arrived.
///
/// A frame larger than `maxFrameSize`, a missing frame-end octet, or a protocol header sent back by
/// a broker that does not speak 0-9-1 is an ``AMQPProtocolError``.
public struct AMQPFrameDecoder: NIOSingleStepByteToMessageDecoder {
    /// The decoder emits whole AMQP frames.
    public typealias InboundOut = AMQPFrame

    /// The largest frame accepted (header and frame-end included); raised or lowered after `tune`.
    public var maxFrameSize: Int

    /// Creates a decoder; 128 KiB is RabbitMQ's default `frame_max`.
    public init(maxFrameSize: Int = 131_072) {
        self.maxFrameSize = maxFrameSize
    }

    /// Returns the next frame, or `nil` while it is incomplete.
    /// - Throws: ``AMQPProtocolError`` for an oversized frame, a missing frame-end octet or a protocol mismatch.
    public mutating func decode(buffer: inout ByteBuffer) throws -> AMQPFrame? {
        guard buffer.readableBytes >= 7 else { return nil }
        let start = buffer.readerIndex
        if buffer.getBytes(at: start, length: 4) == [0x41, 0x4D, 0x51, 0x50] {
            guard let header = buffer.getBytes(at: start, length: 8) else { return nil }
            throw AMQPProtocolError("the broker only speaks AMQP \(header[5])-\(header[6])-\(header[7])")
        }
        guard let type = buffer.getInteger(at: start, as: UInt8.self),
            let channel = buffer.getInteger(at: start + 1, as: UInt16.self),
            let size = buffer.getInteger(at: start + 3, as: UInt32.self)
        else { return nil }
        let frameSize = Int(size) + AMQPFrame.overhead
        guard frameSize <= self.maxFrameSize else {
            throw AMQPProtocolError("frame of \(frameSize) bytes exceeds frame_max \(self.maxFrameSize)")
        }
        guard buffer.readableBytes >= frameSize else { return nil }
        guard buffer.getInteger(at: start + 7 + Int(size), as: UInt8.self) == AMQPFrame.frameEnd else {
            throw AMQPProtocolError("frame-end octet missing")
        }
        buffer.moveReaderIndex(forwardBy: 7)
        guard var payload = buffer.readSlice(length: Int(size)) else { return nil }
        buffer.moveReaderIndex(forwardBy: 1)
        return try AMQPFrame.decodePayload(type: type, channel: channel, payload: &payload)
    }

    /// Decodes a frame left in the buffer when the input ends; a partial frame yields `nil`.
    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> AMQPFrame? {
        try self.decode(buffer: &buffer)
    }
}

/// Writes frames (and the protocol header, sent once, before the first frame).
public struct AMQPFrameEncoder: MessageToByteEncoder {
    /// The encoder writes AMQP frames.
    public typealias OutboundIn = AMQPFrame

    /// Creates an encoder.
    public init() {}

    /// Writes `data` as one frame on the wire.
    /// - Throws: ``AMQPProtocolError`` when a field does not fit its wire type (e.g. a short string over 255 bytes).
    public func encode(data: AMQPFrame, out: inout ByteBuffer) throws {
        try data.encode(into: &out)
    }
}
