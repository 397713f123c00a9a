import NIOCore

/// An AMQP field table: named values, kept in the order they were written or received.
public struct AMQPFieldTable: Sendable, Hashable, ExpressibleByDictionaryLiteral {
    /// The entries in order.
    public private(set) var entries: [(key: String, value: AMQPFieldValue)]

    /// An empty table.
    public init() {
        self.entries = []
    }

    /// A table with `entries` in order.
    public init(_ entries: [(String, AMQPFieldValue)]) {
        self.entries = entries.map { (key: $0.0, value: $0.1) }
    }

    /// A table with the literal's entries in the order written.
    public init(dictionaryLiteral elements: (String, AMQPFieldValue)...) {
        self.init(elements)
    }

    /// Whether the table has no entries.
    public var isEmpty: Bool { self.entries.isEmpty }

    /// The value for `key`; setting replaces it in place or appends it; `nil` removes it.
    public subscript(key: String) -> AMQPFieldValue? {
        get { self.entries.first { $0.key == key }?.value }
        set {
            let index = self.entries.firstIndex { $0.key == key }
            switch (index, newValue) {
            case (.some(let index), .some(let value)): self.entries[index].value = value
            case (.some(let index), .none): self.entries.remove(at: index)
            case (.none, .some(let value)): self.entries.append((key: key, value: value))
            case (.none, .none): break
            }
        }
    }

    /// Two tables are equal when they hold the same keys and values in the same order.
    public static func == (lhs: AMQPFieldTable, rhs: AMQPFieldTable) -> Bool {
        lhs.entries.count == rhs.entries.count
            && zip(lhs.entries, rhs.entries).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    /// Hashes the entries in order, consistent with `==`.
    public func hash(into hasher: inout Hasher) {
        for entry in self.entries {
            hasher.combine(entry.key)
            hasher.combine(entry.value)
        }
    }

    func encode(into buffer: inout ByteBuffer) throws(AMQPProtocolError) {
        var body = ByteBuffer()
        for entry in self.entries {
            try body.writeAMQPShortString(entry.key)
            try entry.value.encode(into: &body)
        }
        buffer.writeAMQPLongBytes(body)
    }

    static func decode(from buffer: inout ByteBuffer) throws(AMQPProtocolError) -> AMQPFieldTable {
        var body = try buffer.readAMQPLongBytes()
        var table = AMQPFieldTable()
        while body.readableBytes > 0 {
            let key = try body.readAMQPShortString()
            let value = try AMQPFieldValue.decode(from: &body)
            table.entries.append((key: key, value: value))
        }
        return table
    }
}

extension ByteBuffer {
    mutating func readAMQPTable() throws(AMQPProtocolError) -> AMQPFieldTable {
        try AMQPFieldTable.decode(from: &self)
    }

    mutating func writeAMQPTable(_ table: AMQPFieldTable) throws(AMQPProtocolError) {
        try table.encode(into: &self)
    }
}

extension AMQPFieldTable {
    /// Writes the table's entries without the 32-bit length prefix, as the AMQPLAIN SASL response
    /// expects.
    public func encodeForAMQPLAIN(into buffer: inout ByteBuffer) throws(AMQPProtocolError) {
        var withLength = ByteBuffer()
        try self.encode(into: &withLength)
        withLength.moveReaderIndex(forwardBy: 4)
        buffer.writeBuffer(&withLength)
    }
}
