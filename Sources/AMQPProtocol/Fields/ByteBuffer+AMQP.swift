import NIOCore

/// Primitive AMQP 0-9-1 field encodings (section 4.2.5 of the specification), all network byte order.
extension ByteBuffer {
    mutating func readAMQPOctet() throws(AMQPProtocolError) -> UInt8 {
        guard let value = self.readInteger(as: UInt8.self) else { throw .truncated }
        return value
    }

    mutating func readAMQPShort() throws(AMQPProtocolError) -> UInt16 {
        guard let value = self.readInteger(as: UInt16.self) else { throw .truncated }
        return value
    }

    mutating func readAMQPLong() throws(AMQPProtocolError) -> UInt32 {
        guard let value = self.readInteger(as: UInt32.self) else { throw .truncated }
        return value
    }

    mutating func readAMQPLongLong() throws(AMQPProtocolError) -> UInt64 {
        guard let value = self.readInteger(as: UInt64.self) else { throw .truncated }
        return value
    }

    /// A short string: one length octet, then up to 255 bytes of UTF-8.
    mutating func readAMQPShortString() throws(AMQPProtocolError) -> String {
        let length = Int(try self.readAMQPOctet())
        guard let bytes = self.readSlice(length: length) else { throw .truncated }
        return String(buffer: bytes)
    }

    /// A long string as raw bytes: a 32-bit length, then the bytes.
    mutating func readAMQPLongBytes() throws(AMQPProtocolError) -> ByteBuffer {
        let length = Int(try self.readAMQPLong())
        guard let bytes = self.readSlice(length: length) else { throw .truncated }
        return bytes
    }

    /// A long string decoded as UTF-8.
    mutating func readAMQPLongString() throws(AMQPProtocolError) -> String {
        String(buffer: try self.readAMQPLongBytes())
    }

    /// Writes a short string; longer than 255 bytes is a caller error the encoder reports.
    mutating func writeAMQPShortString(_ string: String) throws(AMQPProtocolError) {
        let count = string.utf8.count
        guard count <= 255 else {
            throw AMQPProtocolError("short string of \(count) bytes exceeds 255")
        }
        self.writeInteger(UInt8(count))
        self.writeString(string)
    }

    mutating func writeAMQPLongString(_ string: String) {
        self.writeInteger(UInt32(string.utf8.count))
        self.writeString(string)
    }

    mutating func writeAMQPLongBytes(_ bytes: ByteBuffer) {
        self.writeInteger(UInt32(bytes.readableBytes))
        self.writeImmutableBuffer(bytes)
    }

    /// Packs up to eight booleans into one octet, first flag in the lowest bit.
    mutating func writeAMQPBits(_ bits: Bool...) {
        var octet: UInt8 = 0
        for (index, bit) in bits.enumerated() where bit {
            octet |= 1 << UInt8(index)
        }
        self.writeInteger(octet)
    }

    /// Reads one octet of packed booleans.
    mutating func readAMQPBits(_ count: Int) throws(AMQPProtocolError) -> [Bool] {
        let octet = try self.readAMQPOctet()
        return (0..<count).map { octet & (1 << UInt8($0)) != 0 }
    }
}
