/// Outside BSON (e.g. JSON), an ObjectId is its 24-character hex string; the BSON coders store it
/// as a real ObjectId.
extension BSONObjectID: Codable {
    /// Reads an ObjectId from its 24-character hex string (JSON and other decoders; ``BSONDecoder`` reads
    /// a real ObjectId without calling this).
    /// - Throws: `DecodingError.dataCorrupted` when the string is not 24 hexadecimal characters.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let hex = try container.decode(String.self)
        guard let id = BSONObjectID(hex: hex) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a 24-character hex ObjectId")
        }
        self = id
    }

    /// Writes the ObjectId as its hex string (``BSONEncoder`` writes a real ObjectId without calling this).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.hex)
    }
}
