import Foundation

/// The NestJS microservice message body: `{"pattern": <string>, "data": <payload>}`, plus `"id"` when
/// the sender expects a reply (`ClientProxy.send`); without `id` it is an event (`ClientProxy.emit`).
public struct NestEnvelope: Sendable, Equatable {
    /// The handler the message is for (`create_notification`, `email_request`, ...).
    public var pattern: String
    /// The request id of a `send`; nil for events.
    public var id: String?

    /// Parses a body strictly: valid UTF-8, valid JSON (a lone surrogate escape is invalid), an object,
    /// with a string `pattern`.
    ///
    /// - Throws: ``MessageRejection`` saying exactly what is wrong; such a message can never succeed.
    public static func parse(_ body: Data) throws(MessageRejection) -> NestEnvelope {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed])
        } catch {
            throw MessageRejection(.malformedJSON, "the body is not valid UTF-8 JSON")
        }
        guard let dictionary = object as? [String: Any] else {
            throw MessageRejection(.notAnObject, "the body is not a JSON object")
        }
        guard let patternValue = dictionary["pattern"] else {
            throw MessageRejection(.missingPattern, "the body has no \"pattern\"")
        }
        guard let pattern = patternValue as? String, !pattern.isEmpty else {
            throw MessageRejection(.missingPattern, "\"pattern\" is not a non-empty string")
        }
        let id: String?
        switch dictionary["id"] {
        case .none, is NSNull: id = nil
        case let string as String: id = string
        case let number as NSNumber: id = number.stringValue
        default: throw MessageRejection(.malformedJSON, "\"id\" is neither a string nor a number")
        }
        return NestEnvelope(pattern: pattern, id: id)
    }

    /// Decodes the `data` member of a body as `Payload`.
    ///
    /// - Throws: ``MessageRejection`` (`invalidData`) naming the field that does not decode.
    public static func decodeData<Payload: Decodable>(
        _ type: Payload.Type,
        from body: Data,
        decoder: JSONDecoder = JSONDecoder()
    ) throws(MessageRejection) -> Payload {
        do {
            return try decoder.decode(DataMember<Payload>.self, from: body).data
        } catch let error as DecodingError {
            throw MessageRejection(.invalidData, Self.describe(error))
        } catch {
            throw MessageRejection(.invalidData, "\"data\" does not decode")
        }
    }

    /// Encodes an event body exactly as NestJS `ClientProxy.emit` does: `pattern` then `data`, no `id`.
    public static func encodeEvent<Payload: Encodable>(
        pattern: String,
        data: Payload,
        encoder: JSONEncoder = JSONEncoder()
    ) throws -> Data {
        var body = Data("{\"pattern\":".utf8)
        body.append(try encoder.encode(pattern))
        body.append(Data(",\"data\":".utf8))
        body.append(try encoder.encode(data))
        body.append(UInt8(ascii: "}"))
        return body
    }

    /// A field path and what is wrong with it, without the offending value (it may be personal data).
    static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            let keys = codingPath.dropFirst().map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }
            return "data" + keys.joined()
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])) is missing"
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)) is not \(Self.typeName(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)) is null, expected \(Self.typeName(type))"
        case .dataCorrupted(let context):
            return "\(path(context.codingPath)) is invalid: \(context.debugDescription)"
        @unknown default:
            return "\"data\" does not decode"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is Int64.Type, is Int32.Type, is Double.Type: "a number"
        default: "of the expected type"
        }
    }
}

/// The `data` member of an envelope.
private struct DataMember<Payload: Decodable>: Decodable {
    var data: Payload
}

/// Why a message can never be processed; it goes to the dead-letter queue at once with this reason.
public struct MessageRejection: Error, Sendable, Equatable, CustomStringConvertible {
    /// The class of rejection, used as a bounded metric tag.
    public enum Kind: String, Sendable {
        case malformedJSON = "malformed_json"
        case notAnObject = "not_an_object"
        case missingPattern = "missing_pattern"
        case unknownPattern = "unknown_pattern"
        case invalidData = "invalid_data"
        case tooLarge = "too_large"
        case invalidPayload = "invalid_payload"
    }

    public var kind: Kind
    public var reason: String

    public init(_ kind: Kind, _ reason: String) {
        self.kind = kind
        self.reason = reason
    }

    public var description: String { self.reason }
}

extension NestEnvelope {
    /// Encodes an event body around `data` that is already JSON (validated here).
    ///
    /// - Throws: ``MessageRejection`` (`invalidData`) when `data` is not JSON.
    public static func encodeEvent(pattern: String, rawData data: Data) throws -> Data {
        do {
            _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw MessageRejection(.invalidData, "the data is not valid JSON")
        }
        var body = Data("{\"pattern\":".utf8)
        body.append(try JSONEncoder().encode(pattern))
        body.append(Data(",\"data\":".utf8))
        body.append(data)
        body.append(UInt8(ascii: "}"))
        return body
    }
}
