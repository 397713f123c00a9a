import Messaging
import SMTPClient

/// The `data` of an `email_request` message: `{"type": ..., "data": {"email": ..., "otpCode": ...}}`.
/// Decoded leniently (every field optional, unknown fields ignored) so that ``validated()`` can say
/// exactly what is wrong.
public struct EmailRequest: Decodable, Sendable, Equatable {
    public struct Fields: Decodable, Sendable, Equatable {
        public var email: String?
        public var otpCode: String?

        public init(email: String?, otpCode: String? = nil) {
            self.email = email
            self.otpCode = otpCode
        }

        enum CodingKeys: String, CodingKey {
            case email
            case otpCode
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            // A wrong JSON type counts as missing and is reported by validation, not as a decoding error.
            self.email = try? container.decodeIfPresent(String.self, forKey: .email)
            self.otpCode = try? container.decodeIfPresent(String.self, forKey: .otpCode)
        }
    }

    public var type: String?
    public var data: Fields?

    public init(type: String?, data: Fields?) {
        self.type = type
        self.data = data
    }

    enum CodingKeys: String, CodingKey {
        case type
        case data
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.type = try? container.decodeIfPresent(String.self, forKey: .type)
        self.data = try? container.decodeIfPresent(Fields.self, forKey: .data)
    }

    /// The type for metric tags: the requested one when known, else `unknown`.
    public var metricType: String { self.type.flatMap(EmailType.init(rawValue:))?.rawValue ?? "unknown" }

    /// A request that passed validation.
    public struct Valid: Sendable, Equatable {
        public var type: EmailType
        public var recipient: SMTPAddress
        public var otpCode: String?
    }

    /// Checks the type, the recipient (one bare address, no display name, no CR/LF) and the code.
    ///
    /// - Throws: ``MessageHandlingError`` `.permanent` naming the problem; such a request is
    ///   dead-lettered at once.
    public func validated() throws(MessageHandlingError) -> Valid {
        guard let rawType = self.type else {
            throw .permanent("the email request has no type")
        }
        guard let type = EmailType(rawValue: rawType) else {
            throw .permanent("Unknown email type request: \(Self.clip(rawType))")
        }
        guard let email = self.data?.email, !email.isEmpty else {
            throw .permanent("\(type.rawValue): data.email is missing")
        }
        let recipient: SMTPAddress
        do {
            recipient = try SMTPAddress(email)
        } catch {
            throw .permanent("\(type.rawValue): data.email is not one valid address (\(error.message))")
        }
        guard type.requiresOTPCode else {
            return Valid(type: type, recipient: recipient, otpCode: nil)
        }
        guard let code = self.data?.otpCode, !code.isEmpty else {
            throw .permanent("\(type.rawValue): data.otpCode is missing")
        }
        guard Self.isShortCode(code) else {
            throw .permanent("\(type.rawValue): data.otpCode is not a short code (4 to 12 letters or digits)")
        }
        return Valid(type: type, recipient: recipient, otpCode: code)
    }

    /// The publishers send the first 6 hex characters of a UUID; anything of 4 to 12 ASCII letters
    /// and digits is accepted.
    static func isShortCode(_ code: String) -> Bool {
        (4...12).contains(code.count)
            && code.unicodeScalars.allSatisfy { $0.isASCII && $0.properties.isAlphabetic || ("0"..."9").contains($0) }
    }

    private static func clip(_ text: String) -> String {
        let printable = String(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.prefix(64))
        return text.count > 64 ? printable + "…" : printable
    }
}
