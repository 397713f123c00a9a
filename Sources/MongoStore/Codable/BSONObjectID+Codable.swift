/// Outside BSON (e.g. JSON), an ObjectId is its 24-character hex string; the BSON coders store it
/// as a real ObjectId.
extension BSONObjectID: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let hex = try container.decode(String.self)
        guard let id = BSONObjectID(hex: hex) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a 24-character hex ObjectId")
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.hex)
    }
}
