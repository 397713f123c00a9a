import FlowKit
import Foundation
import Testing

@testable import Console

@Suite struct ConsoleAuthTests {
    let auth = ConsoleAuth(token: "dev-console-token")
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func onlyTheExactTokenIsTheToken() {
        #expect(self.auth.isToken("dev-console-token"))
        for wrong in ["", "dev-console-toke", "dev-console-token ", "DEV-CONSOLE-TOKEN", "dev-console-token2"] {
            #expect(!self.auth.isToken(wrong), "\(wrong)")
        }
        #expect(SecretComparison.equals("a".utf8, "a".utf8))
        #expect(!SecretComparison.equals("a".utf8, "b".utf8))
        #expect(!SecretComparison.equals([], "a".utf8))
        #expect(!SecretComparison.equals("a".utf8, "aa".utf8))
    }

    @Test func aSessionHoldsUntilItExpiresAndOnlyForItsToken() {
        let session = self.auth.sessionValue(now: self.now)
        #expect(!session.contains("dev-console-token"))
        #expect(self.auth.isValidSession(session, now: self.now))
        #expect(self.auth.isValidSession(session, now: self.now.addingTimeInterval(ConsoleAuth.sessionLifetime - 1)))
        #expect(!self.auth.isValidSession(session, now: self.now.addingTimeInterval(ConsoleAuth.sessionLifetime + 1)))
        #expect(!ConsoleAuth(token: "another-token").isValidSession(session, now: self.now))
    }

    @Test func aForgedOrAlteredSessionIsRefused() {
        let session = self.auth.sessionValue(now: self.now)
        let parts = session.split(separator: ".")
        // A later expiry with the old code, a flipped code digit, junk.
        let later = "\(Int64(parts[0])! + 3600).\(parts[1])"
        var code = Array(parts[1])
        code[0] = code[0] == "0" ? "1" : "0"
        let flipped = "\(parts[0]).\(String(code))"
        for forged in [later, flipped, "", ".", "123", "abc.def", "\(parts[0]).", session + "0"] {
            #expect(!self.auth.isValidSession(forged, now: self.now), "\(forged)")
        }
    }

    @Test func theCookieIsHttpOnlyStrictAndCarriesNoToken() {
        let cookie = self.auth.signInCookie(now: self.now)
        #expect(cookie.hasPrefix("console_session="))
        #expect(cookie.contains("; HttpOnly"))
        #expect(cookie.contains("; SameSite=Strict"))
        #expect(cookie.contains("; Path=/"))
        #expect(!cookie.contains("dev-console-token"))
        #expect(ConsoleAuth.signOutCookie.contains("Max-Age=0"))
    }

    @Test func aRequestIsAuthorizedByCookieOrBearer() {
        let session = self.auth.sessionValue(now: self.now)
        #expect(
            self.auth.isAuthorized(
                cookieHeader: "a=1; console_session=\(session); b=2", authorization: nil, now: self.now))
        #expect(self.auth.isAuthorized(cookieHeader: nil, authorization: "Bearer dev-console-token", now: self.now))
        #expect(self.auth.isAuthorized(cookieHeader: nil, authorization: "bearer dev-console-token", now: self.now))
        #expect(!self.auth.isAuthorized(cookieHeader: nil, authorization: nil, now: self.now))
        #expect(!self.auth.isAuthorized(cookieHeader: nil, authorization: "Bearer wrong", now: self.now))
        #expect(!self.auth.isAuthorized(cookieHeader: nil, authorization: "Basic dev-console-token", now: self.now))
        #expect(
            !self.auth.isAuthorized(
                cookieHeader: "console_session=dev-console-token", authorization: nil, now: self.now))
        #expect(!self.auth.isAuthorized(cookieHeader: "other_session=\(session)", authorization: nil, now: self.now))
        // A wrong bearer token is not rescued by a valid cookie: the header says who it is.
        #expect(
            !self.auth.isAuthorized(
                cookieHeader: "console_session=\(session)", authorization: "Bearer wrong", now: self.now))
    }

    @Test func cookieHeadersAreParsed() {
        #expect(ConsoleAuth.cookie(named: "a", in: "a=1") == "1")
        #expect(ConsoleAuth.cookie(named: "b", in: "a=1;b=x=y; c=3") == "x=y")
        #expect(ConsoleAuth.cookie(named: "a", in: "aa=1; a=2") == "2")
        #expect(ConsoleAuth.cookie(named: "a", in: "b=1") == nil)
        #expect(ConsoleAuth.cookie(named: "a", in: nil) == nil)
    }

    @Test func onlyTheRequestsOwnOriginMayChangeState() {
        #expect(ConsoleAuth.isSameOrigin(origin: nil, host: "127.0.0.1:4010"))
        #expect(ConsoleAuth.isSameOrigin(origin: "http://127.0.0.1:4010", host: "127.0.0.1:4010"))
        #expect(ConsoleAuth.isSameOrigin(origin: "https://Console.Example:8443", host: "console.example:8443"))
        #expect(!ConsoleAuth.isSameOrigin(origin: "http://127.0.0.1:4011", host: "127.0.0.1:4010"))
        #expect(!ConsoleAuth.isSameOrigin(origin: "http://evil.example", host: "127.0.0.1:4010"))
        #expect(!ConsoleAuth.isSameOrigin(origin: "http://127.0.0.1:4010.evil.example", host: "127.0.0.1:4010"))
        #expect(!ConsoleAuth.isSameOrigin(origin: "null", host: "127.0.0.1:4010"))
        #expect(!ConsoleAuth.isSameOrigin(origin: "http://127.0.0.1:4010", host: nil))
        #expect(!ConsoleAuth.isSameOrigin(origin: "file://127.0.0.1:4010", host: "127.0.0.1:4010"))
    }
}
