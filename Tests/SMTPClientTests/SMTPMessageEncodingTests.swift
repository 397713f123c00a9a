import Foundation
import NIOCore
import Testing

@testable import SMTPClient

@Suite("SMTP message encoding")
struct SMTPMessageEncodingTests {
    static func message(subject: String = "Hello", text: String = "Hi\n", html: String? = "<p>Hi</p>") throws
        -> SMTPMessage
    {
        SMTPMessage(
            from: try SMTPAddress("noreply@decode.test"),
            to: [try SMTPAddress("a@b.io")],
            subject: subject,
            text: text,
            html: html,
            date: Date(timeIntervalSince1970: 1_764_446_400),
            messageID: "fixed@decode.test"
        )
    }

    static func encode(_ message: SMTPMessage, allow8Bit: Bool = false) throws -> String {
        String(
            decoding: try SMTPMessageEncoder.encode(message, allow8Bit: allow8Bit, boundary: "BOUNDARY").bytes,
            as: UTF8.self)
    }

    @Test func writesHeadersAndAMultipartAlternativeBody() throws {
        let text = try Self.encode(try Self.message())
        #expect(text.hasPrefix("Date: Sat, 29 Nov 2025 20:00:00 +0000\r\nFrom: noreply@decode.test\r\nTo: a@b.io\r\n"))
        #expect(text.contains("\r\nSubject: Hello\r\n"))
        #expect(text.contains("\r\nMessage-ID: <fixed@decode.test>\r\n"))
        #expect(
            text.contains("\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative;\r\n boundary=\"BOUNDARY\"\r\n")
        )
        #expect(
            text.contains(
                "--BOUNDARY\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nHi\r\n"
            ))
        #expect(text.contains("--BOUNDARY\r\nContent-Type: text/html; charset=utf-8\r\n"))
        #expect(text.hasSuffix("--BOUNDARY--\r\n"))
        // Every line ends with CRLF: no bare LF.
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
    }

    @Test func aTextOnlyMessageIsOnePart() throws {
        let text = try Self.encode(try Self.message(html: nil))
        #expect(
            text.contains(
                "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nHi\r\n"
            ))
        #expect(!text.contains("multipart"))
    }

    @Test func encodesNonASCIISubjectsAsRFC2047Words() throws {
        let subject = "🎉 Welcome to Decode! Your Account is Ready – ça marche très bien, vraiment"
        let text = try Self.encode(try Self.message(subject: subject))
        let header = try #require(
            text.components(separatedBy: "\r\nMessage-ID:").first?.components(separatedBy: "Subject: ").last)
        let words = header.components(separatedBy: "\r\n ")
        #expect(words.count > 1)
        var decoded = Data()
        for word in words {
            #expect(word.count <= 75)
            #expect(word.hasPrefix("=?UTF-8?B?") && word.hasSuffix("?="))
            decoded += try #require(Data(base64Encoded: String(word.dropFirst(10).dropLast(2))))
        }
        #expect(String(decoding: decoded, as: UTF8.self) == subject)
    }

    @Test func quotedPrintableKeepsLinesShortAndEscapes() {
        let long = String(repeating: "abcdefghij", count: 20) + " = é "
        let lines = QuotedPrintable.encode(line: long)
        #expect(lines.allSatisfy { $0.utf8.count <= 76 })
        #expect(lines.dropLast().allSatisfy { $0.hasSuffix("=") })
        let joined = lines.map { $0.hasSuffix("=") ? String($0.dropLast()) : $0 }.joined()
        #expect(joined.hasSuffix(" =3D =C3=A9=20"))
        #expect(QuotedPrintable.encode(line: "") == [""])
    }

    @Test func eightBitPartsWhenTheServerTakesThem() throws {
        let encoded = try SMTPMessageEncoder.encode(try Self.message(text: "Grüße\n"), allow8Bit: true, boundary: "B")
        #expect(encoded.eightBit)
        let text = String(decoding: encoded.bytes, as: UTF8.self)
        #expect(text.contains("Content-Transfer-Encoding: 8bit\r\n\r\nGrüße\r\n"))
        // Over-long lines stay quoted-printable even then.
        let long = try SMTPMessageEncoder.encode(
            try Self.message(text: String(repeating: "ü", count: 600), html: nil), allow8Bit: true, boundary: "B")
        #expect(!long.eightBit)
    }

    @Test func rejectsHeaderInjection() throws {
        for subject in ["Hi\r\nBcc: victim@x.io", "Hi\nX: y", "Hi\0"] {
            #expect(throws: SMTPError.self) { try Self.encode(try Self.message(subject: subject)) }
        }
        var message = try Self.message()
        message.headers = [("X-Request", "a\r\nBcc: v@x.io")]
        #expect(throws: SMTPError.self) { try Self.encode(message) }
        message.headers = [("Bad Name", "v")]
        #expect(throws: SMTPError.self) { try Self.encode(message) }
    }

    @Test func addressesRefuseAnythingButOneBareMailbox() {
        for valid in ["a@b.io", "first.last+tag@sub.example-domain.org", "x_y@localhost"] {
            #expect((try? SMTPAddress(valid)) != nil, "\(valid)")
        }
        let invalid = [
            "", "a", "a@", "@b.io", "a@@b.io", "a@b@c.io", "Alice <a@b.io>", "a@b.io\r\nRCPT TO:<x@y.io>", "a @b.io",
            "a@b.io\n", "a\0@b.io", "a..b@c.io", ".a@b.io", "a@-b.io", "a@b..io", "ä@b.io", "a,b@c.io", "\"a\"@b.io",
        ]
        for address in invalid {
            #expect((try? SMTPAddress(address)) == nil, "\(address.debugDescription)")
        }
    }

    @Test func dotStuffsAndTerminatesTheContent() {
        let content = SMTPDataEncoder.content(Array(".hidden\r\nline\n..two\r\n.".utf8))
        #expect(String(buffer: content) == "..hidden\r\nline\r\n...two\r\n..\r\n.\r\n")
        #expect(String(buffer: SMTPDataEncoder.content(Array("ends\r\n".utf8))) == "ends\r\n.\r\n")
    }
}
