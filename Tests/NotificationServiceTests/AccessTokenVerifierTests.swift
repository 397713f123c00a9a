import Crypto
import Foundation
import SocketIO
import Testing

@testable import NotificationService

@Suite("Access token verification at CONNECT")
struct AccessTokenVerifierTests {
    static let secret = "test-access-secret"

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Signs like the auth service (jsonwebtoken, HS256).
    static func token(
        secret: String = Self.secret,
        alg: String = "HS256",
        expiresIn: TimeInterval = 3600,
        issuer: String = "decode-auth-service",
        audience: String = "decode-frontend",
        userID: String? = "665f1c2e9b1d4a0012345678"
    ) -> String {
        let header = Self.base64URL(Data(#"{"alg":"\#(alg)","typ":"JWT"}"#.utf8))
        let exp = Int(Date().timeIntervalSince1970 + expiresIn)
        let user = userID.map { #","user_id":"\#($0)""# } ?? ""
        let payload = Self.base64URL(
            Data(#"{"session_token":"s","iat":1,"exp":\#(exp),"aud":"\#(audience)","iss":"\#(issuer)"\#(user)}"#.utf8)
        )
        let signature = HMAC<SHA256>.authenticationCode(
            for: Data("\(header).\(payload)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return "\(header).\(payload).\(Self.base64URL(Data(signature)))"
    }

    @Test func validTokenGivesTheUserID() throws {
        let verifier = AccessTokenVerifier(secret: Self.secret)
        #expect(try verifier.userID(from: Self.token()) == "665f1c2e9b1d4a0012345678")
    }

    @Test func refusalsUseTheOriginalCodesAndMessages() {
        let verifier = AccessTokenVerifier(secret: Self.secret)
        let valid = Self.token()
        let cases: [(String?, AccessTokenVerifier.Refusal)] = [
            (nil, .tokenRequired),
            ("", .tokenRequired),
            ("not.a.jwt", .invalidToken),
            (Self.token(secret: "another-secret"), .invalidToken),
            (Self.token(alg: "HS512"), .invalidToken),
            (Self.token(expiresIn: -60), .invalidToken),
            (Self.token(issuer: "someone-else"), .invalidToken),
            (Self.token(audience: "another-app"), .invalidToken),
            (Self.token(userID: nil), .noUserID),
            (String(valid.dropLast(2)) + "xx", .invalidToken),
        ]
        for (token, refusal) in cases {
            #expect(throws: refusal) { _ = try verifier.userID(from: token) }
        }
    }

    @Test func unsignedTokensAreRefused() {
        let verifier = AccessTokenVerifier(secret: Self.secret)
        let unsigned = Self.token(alg: "none").split(separator: ".").prefix(2).joined(separator: ".") + "."
        #expect(throws: AccessTokenVerifier.Refusal.invalidToken) { _ = try verifier.userID(from: unsigned) }
    }

    @Test func emptySecretRefusesEveryToken() {
        let verifier = AccessTokenVerifier(secret: "")
        #expect(throws: AccessTokenVerifier.Refusal.invalidToken) { _ = try verifier.userID(from: Self.token()) }
    }

    @Test func headerWinsOverTheAuthPayload() {
        #expect(
            AccessTokenVerifier.token(
                authorizationHeader: "Bearer header-token", auth: .object(["token": .string("auth-token")]))
                == "header-token"
        )
        #expect(
            AccessTokenVerifier.token(authorizationHeader: nil, auth: .object(["token": .string("auth-token")]))
                == "auth-token")
        #expect(AccessTokenVerifier.token(authorizationHeader: "Basic x", auth: nil) == nil)
    }
}
