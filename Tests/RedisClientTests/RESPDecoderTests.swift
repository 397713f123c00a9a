import NIOCore
import NIOTestUtils
import Testing

@testable import RedisClient

@Suite("RESP codec")
struct RESPDecoderTests {
    func decode(_ text: String) throws -> RESPValue? {
        var buffer = ByteBuffer(string: text)
        var decoder = RESPDecoder()
        return try decoder.decode(buffer: &buffer)
    }

    @Test func everyRESP2AndRESP3Type() throws {
        #expect(try self.decode("+OK\r\n") == .simpleString("OK"))
        #expect(
            try self.decode("-WRONGTYPE Operation against a key\r\n") == .error("WRONGTYPE Operation against a key"))
        #expect(try self.decode(":-42\r\n") == .integer(-42))
        #expect(try self.decode("$5\r\nhe\r\no\r\n") == .bulkString(ByteBuffer(string: "he\r\no")))
        #expect(try self.decode("$-1\r\n") == .bulkString(nil))
        #expect(try self.decode("$0\r\n\r\n") == .bulkString(ByteBuffer()))
        #expect(
            try self.decode("*2\r\n:1\r\n$1\r\na\r\n") == .array([.integer(1), .bulkString(ByteBuffer(string: "a"))]))
        #expect(try self.decode("*-1\r\n") == .array(nil))
        #expect(try self.decode("_\r\n") == .null)
        #expect(try self.decode(",3.5\r\n") == .double(3.5))
        #expect(try self.decode(",inf\r\n") == .double(.infinity))
        #expect(try self.decode("#t\r\n") == .boolean(true))
        #expect(try self.decode("(12345678901234567890\r\n") == .bigNumber("12345678901234567890"))
        #expect(try self.decode("=8\r\ntxt:abcd\r\n") == .verbatimString("abcd"))
        #expect(try self.decode("!9\r\nERR oops!\r\n") == .error("ERR oops!"))
        #expect(try self.decode("%1\r\n+key\r\n:1\r\n") == .map([.simpleString("key"): .integer(1)]))
        #expect(try self.decode("~2\r\n+a\r\n+b\r\n") == .set([.simpleString("a"), .simpleString("b")]))
        #expect(
            try self.decode(">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n")
                == .push([
                    .bulkString(ByteBuffer(string: "message")), .bulkString(ByteBuffer(string: "ch")),
                    .bulkString(ByteBuffer(string: "hi")),
                ])
        )
        // An attribute annotates the next value and is dropped.
        #expect(try self.decode("|1\r\n+ttl\r\n:3600\r\n+OK\r\n") == .simpleString("OK"))
    }

    @Test func incompleteInputWaitsAcrossReads() throws {
        let input = ByteBuffer(string: "*3\r\n$3\r\nSET\r\n:7\r\n%1\r\n+a\r\n~1\r\n_\r\n+PONG\r\n")
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [
                (
                    input,
                    [
                        .array([
                            .bulkString(ByteBuffer(string: "SET")), .integer(7),
                            .map([.simpleString("a"): .set([.null])]),
                        ]),
                        .simpleString("PONG"),
                    ]
                )
            ],
            decoderFactory: { RESPDecoder() }
        )
    }

    @Test func malformedInputIsAnError() {
        #expect(throws: RESPProtocolError.self) { try self.decode("?x\r\n") }
        #expect(throws: RESPProtocolError.self) { try self.decode(":abc\r\n") }
        #expect(throws: RESPProtocolError.self) { try self.decode("#x\r\n") }
        let deep = String(repeating: "*1\r\n", count: 100) + ":1\r\n"
        #expect(throws: RESPProtocolError(reason: "nesting deeper than 64")) { try self.decode(deep) }
    }

    @Test func commandsAreArraysOfBulkStrings() {
        var buffer = ByteBuffer()
        RESPEncoder.encode(["SET", "k✓", .bytes(ByteBuffer(bytes: [0, 13, 10]))], into: &buffer)
        #expect(
            Array(buffer: buffer) == Array("*3\r\n$3\r\nSET\r\n$4\r\nk✓\r\n$3\r\n".utf8) + [0, 13, 10]
                + Array("\r\n".utf8))
    }

    @Test func repliesAnswerRequestsInOrderAndPushesAreOutOfBand() {
        var router = RedisReplyRouter()
        router.requestSent()
        router.requestSent()
        #expect(router.received(.push([.simpleString("message")])) == .push(.push([.simpleString("message")])))
        #expect(router.received(.simpleString("first")) == .reply(.simpleString("first")))
        #expect(router.received(.simpleString("second")) == .reply(.simpleString("second")))
        #expect(router.received(.simpleString("extra")) == .unexpected(.simpleString("extra")))
    }

    @Test func uris() throws {
        let full = try RedisConfiguration(uri: "rediss://presence:s3cret@cache.example:6380/2")
        #expect(full.host == "cache.example")
        #expect(full.port == 6380)
        #expect(full.tls != nil)
        #expect(full.username == "presence")
        #expect(full.password == "s3cret")
        #expect(full.database == 2)
        let passwordOnly = try RedisConfiguration(uri: "redis://:pw@localhost")
        #expect(passwordOnly.username == nil && passwordOnly.password == "pw" && passwordOnly.port == 6379)
        #expect(try RedisConfiguration(uri: "redis://pw@localhost").password == "pw")
        #expect(throws: RedisError.self) { try RedisConfiguration(uri: "http://localhost") }
        #expect(throws: RedisError.self) { try RedisConfiguration(uri: "redis://localhost/x") }
    }
}
