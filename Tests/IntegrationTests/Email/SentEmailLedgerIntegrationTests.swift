import EmailWorker
import Foundation
import RedisClient
import SMTPClient
import Testing

/// The idempotency ledger in the stack's Redis, shared by two worker instances.
@Suite("Sent email ledger in Redis")
struct SentEmailLedgerIntegrationTests {
    static func redis() throws -> RedisClient {
        RedisClient(configuration: try RedisConfiguration(uri: RedisIntegrationTests.uri))
    }

    @Test func claimsMarksAndReleasesWithTheWindowAsTTL() async throws {
        let redis = try Self.redis()
        let prefix = TestEnvironment.uniqueName("test.ledger") + ":"
        let ledger = RedisSentEmailLedger(redis: redis, window: .seconds(600), claimTTL: .seconds(30), prefix: prefix)
        #expect(try await ledger.claim("k") == .claimed)
        #expect(try await redis.ttl(prefix + "k") <= 30)
        #expect(try await ledger.claim("k") == .inProgress)
        try await ledger.markSent("k")
        #expect(try await ledger.claim("k") == .alreadySent)
        let ttl = try await redis.ttl(prefix + "k")
        #expect(ttl > 30 && ttl <= 600)
        try await ledger.release("k")
        #expect(try await redis.exists([prefix + "k"]) == 0)
        #expect(try await ledger.claim("k") == .claimed)
        try await redis.del([prefix + "k"])
        redis.shutdown()
    }

    @Test func twoInstancesSendARedeliveredRequestOnce() async throws {
        let redis = try Self.redis()
        let prefix = TestEnvironment.uniqueName("test.ledger") + ":"
        try await SMTPPeer.with("plain") { peer in
            let smtp = SMTPClient(
                configuration: SMTPConfiguration(host: "127.0.0.1", port: peer.port, tlsMode: .startTLSIfOffered))
            let templates = try await EmailTemplates.load()
            let workers = try (0..<2).map { _ in
                EmailRequestHandler(
                    templates: templates, transport: smtp, from: try SMTPAddress("noreply@decode.test"),
                    ledger: RedisSentEmailLedger(redis: redis, window: .seconds(60), prefix: prefix))
            }
            let request = EmailRequest(type: "welcome-message", data: .init(email: "a@b.io"))
            try await workers[0].handle(request, idempotencyKey: "message-1")
            try await workers[1].handle(request, idempotencyKey: "message-1")
            try await workers[1].handle(request, idempotencyKey: "message-2")
            let mails = try await peer.waitForMails(2)
            await smtp.shutdown()
            #expect(mails.count == 2)
            let again = try peer.mails()
            #expect(again.count == 2)
        }
        try await redis.del([prefix + "message-1", prefix + "message-2"])
        redis.shutdown()
    }
}
