import NIOCore
import NIOTestUtils
import Testing

@testable import SMTPClient

@Suite("SMTP reply decoder")
struct SMTPReplyDecoderTests {
    @Test func decodesAMultiLineEhloReply() throws {
        let input = "250-mail.example.org greets you\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250 AUTH PLAIN LOGIN\r\n"
        let replies = try Self.decode(input)
        #expect(replies.count == 1)
        #expect(replies[0].code == 250)
        #expect(replies[0].lines == ["mail.example.org greets you", "PIPELINING", "SIZE 1000", "AUTH PLAIN LOGIN"])
    }

    @Test func splitsEnhancedStatusCodesOfTheRightClass() throws {
        let replies = try Self.decode(
            "550 5.1.1 <nobody@example.org>: user unknown\r\n451 4.3.0 try later\r\n250 2.0.0 ok\r\n")
        #expect(replies.map(\.enhancedCode) == ["5.1.1", "4.3.0", "2.0.0"])
        #expect(replies[0].text == "<nobody@example.org>: user unknown")
        #expect(replies[0].description == "550 5.1.1 <nobody@example.org>: user unknown")
        // A dotted token of another class is text, not a status code.
        let other = try Self.decode("550 4.1.1 odd\r\n")
        #expect(other[0].enhancedCode == nil)
        #expect(other[0].text == "4.1.1 odd")
    }

    @Test func acceptsBareLFAndCodeWithoutText() throws {
        let replies = try Self.decode("220\n354 go ahead\r\n")
        #expect(replies == [SMTPReply(code: 220, lines: [""]), SMTPReply(code: 354, lines: ["go ahead"])])
    }

    @Test func waitsForTheLastLineOfAReplySplitAcrossReads() throws {
        var decoder = SMTPReplyDecoder()
        var buffer = ByteBuffer(string: "250-first\r\n250-sec")
        #expect(try decoder.decode(buffer: &buffer) == nil)
        buffer.writeString("ond\r\n250 last\r\n")
        let reply = try #require(try decoder.decode(buffer: &buffer))
        #expect(reply.lines == ["first", "second", "last"])
    }

    @Test func refusesMalformedLines() {
        for input in ["hello\r\n", "25\r\n", "250+x\r\n", "699 x\r\n", "250-a\r\n251 b\r\n"] {
            #expect(throws: SMTPError.self, "\(input)") { try Self.decode(input) }
        }
    }

    @Test func refusesOverlongLines() {
        var decoder = SMTPReplyDecoder()
        var buffer = ByteBuffer(string: "250 " + String(repeating: "x", count: SMTPReplyDecoder.maximumLineLength + 10))
        #expect(throws: SMTPError.self) { try decoder.decode(buffer: &buffer) }
    }

    @Test func decoderVerifierAgreesOnEverySplit() throws {
        let reply = SMTPReply(code: 250, enhancedCode: "2.1.0", lines: ["sender ok", "more"])
        try ByteToMessageDecoderVerifier.verifyDecoder(
            stringInputOutputPairs: [("250-2.1.0 sender ok\r\n250 more\r\n", [reply])],
            decoderFactory: { SMTPReplyDecoder() }
        )
    }

    static func decode(_ text: String) throws -> [SMTPReply] {
        var decoder = SMTPReplyDecoder()
        var buffer = ByteBuffer(string: text)
        var replies: [SMTPReply] = []
        while let reply = try decoder.decode(buffer: &buffer) {
            replies.append(reply)
        }
        #expect(buffer.readableBytes == 0)
        return replies
    }
}
