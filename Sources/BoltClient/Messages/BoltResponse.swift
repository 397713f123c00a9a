import NIOCore

/// A server message (Bolt response).
public enum BoltResponse: Sendable, Equatable {
    /// The request succeeded; the metadata depends on the request (e.g. `fields`, `has_more`, `bookmark`).
    case success([String: BoltValue])
    /// One result row, the field values in the order of RUN's `fields`.
    case record([BoltValue])
    /// The request was skipped because an earlier one failed; a RESET clears that.
    case ignored
    /// The request failed; the metadata holds `code` (or `neo4j_code`) and `message`.
    case failure([String: BoltValue])

    static let successTag: UInt8 = 0x70
    static let recordTag: UInt8 = 0x71
    static let ignoredTag: UInt8 = 0x7E
    static let failureTag: UInt8 = 0x7F

    /// Decodes one whole message.
    static func decode(from buffer: inout ByteBuffer) throws(PackStreamError) -> BoltResponse {
        let (size, tag) = try PackStreamDecoder.readStructureHeader(&buffer)
        var fields: [BoltValue] = []
        for _ in 0..<size {
            fields.append(try PackStreamDecoder.decode(&buffer))
        }
        guard buffer.readableBytes == 0 else {
            throw PackStreamError(reason: "\(buffer.readableBytes) bytes after the message")
        }
        switch (tag, fields.first) {
        case (Self.successTag, .map(let metadata)) where size == 1: return .success(metadata)
        case (Self.recordTag, .list(let values)) where size == 1: return .record(values)
        case (Self.ignoredTag, _) where size == 0: return .ignored
        case (Self.failureTag, .map(let metadata)) where size == 1: return .failure(metadata)
        default:
            throw PackStreamError(reason: "not a Bolt response: tag 0x\(String(tag, radix: 16)) with \(size) fields")
        }
    }

    /// Encodes the message (for scripted servers in tests).
    func encode(into buffer: inout ByteBuffer) {
        let encoder = PackStreamEncoder()
        switch self {
        case .success(let metadata): encoder.encodeStructure(Self.successTag, [.map(metadata)], into: &buffer)
        case .record(let values): encoder.encodeStructure(Self.recordTag, [.list(values)], into: &buffer)
        case .ignored: encoder.encodeStructure(Self.ignoredTag, [], into: &buffer)
        case .failure(let metadata): encoder.encodeStructure(Self.failureTag, [.map(metadata)], into: &buffer)
        }
    }
}
