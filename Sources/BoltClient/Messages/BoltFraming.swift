import NIOCore

/// Bolt's transport framing: after the handshake's 4-byte version answer, messages travel as chunks
/// (a 2-byte big-endian size, then that many bytes), each message ended by an empty chunk. An empty
/// chunk between messages is a keep-alive (NOOP) and is skipped.
struct BoltFrameDecoder: NIOSingleStepByteToMessageDecoder {
    enum Frame: Equatable {
        /// The version the server chose (0.0: none of ours).
        case version(BoltVersion)
        /// One whole message, chunks joined.
        case message(ByteBuffer)
    }

    /// Larger messages are refused (a misbehaving server cannot exhaust memory).
    var maximumMessageSize: Int
    private var versionReceived = false
    private var pending: ByteBuffer?

    init(maximumMessageSize: Int = 64 << 20) {
        self.maximumMessageSize = maximumMessageSize
    }

    mutating func decode(buffer: inout ByteBuffer) throws -> Frame? {
        if !self.versionReceived {
            guard let bytes = buffer.readBytes(length: 4) else { return nil }
            self.versionReceived = true
            return .version(BoltVersion(bytes[3], bytes[2]))
        }
        while let size = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) {
            guard buffer.readableBytes >= 2 + Int(size) else { return nil }
            buffer.moveReaderIndex(forwardBy: 2)
            if size == 0 {
                if let message = self.pending {
                    self.pending = nil
                    return .message(message)
                }
                continue  // NOOP
            }
            guard var chunk = buffer.readSlice(length: Int(size)) else { return nil }
            if self.pending == nil {
                self.pending = chunk
            } else {
                guard (self.pending?.readableBytes ?? 0) + Int(size) <= self.maximumMessageSize else {
                    throw PackStreamError(reason: "a message larger than \(self.maximumMessageSize) bytes")
                }
                self.pending?.writeBuffer(&chunk)
            }
        }
        return nil
    }

    mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> Frame? {
        try self.decode(buffer: &buffer)
    }
}

enum BoltFrameEncoder {
    static let maximumChunkSize = Int(UInt16.max)

    /// Splits one encoded message into chunks and the end marker.
    static func writeChunked(_ message: ByteBuffer, into buffer: inout ByteBuffer) {
        var message = message
        while message.readableBytes > 0 {
            let size = min(message.readableBytes, self.maximumChunkSize)
            buffer.writeInteger(UInt16(size))
            if var slice = message.readSlice(length: size) {
                buffer.writeBuffer(&slice)
            }
        }
        buffer.writeInteger(UInt16(0))
    }
}
