import BoltClient
import Hummingbird
import HummingbirdTesting
import Testing

@testable import GraphSync

@Suite struct AdminTokenMiddlewareTests {
    @Test func onlyTheExactBearerTokenPasses() async throws {
        let router = Router()
        router.group("sync").add(middleware: AdminTokenMiddleware<BasicRequestContext>(token: "s3cret"))
            .get("check") { _, _ in "passed" }
        let app = Application(router: router)
        try await app.test(.router) { client in
            for header in [nil, "s3cret", "Bearer s3cre", "Bearer s3cret2", "Basic s3cret", "Bearer S3CRET"] {
                let headers: HTTPFields = header.map { [.authorization: $0] } ?? [:]
                let response = try await client.execute(uri: "/sync/check", method: .get, headers: headers)
                #expect(response.status == .unauthorized)
                #expect(String(buffer: response.body).contains(#""statusCode":401"#))
            }
            let response = try await client.execute(
                uri: "/sync/check", method: .get, headers: [.authorization: "Bearer s3cret"])
            #expect(response.status == .ok)
            #expect(String(buffer: response.body) == "passed")
        }
    }

    @Test func boltValuesBecomeJSON() async throws {
        let encoded = SyncHTTPRoutes.json(
            [
                "n": JSONBoltValue(.float(0.0)), "s": JSONBoltValue("a\"b"), "l": JSONBoltValue([1, nil, true]),
                "m": JSONBoltValue(["k": 2.5]),
            ], .ok)
        #expect(encoded.status == .ok)
        #expect(encoded.headers[.contentType] == "application/json")
        #expect(try await Self.body(of: encoded) == #"{"l":[1,null,true],"m":{"k":2.5},"n":0,"s":"a\"b"}"#)
    }

    @Test func aBodyThatCannotBeEncodedIsAServerErrorNotAnEmptyObject() async throws {
        // JSON has no NaN: the graph can hold one, the answer cannot.
        let encoded = SyncHTTPRoutes.json(["n": JSONBoltValue(.float(.nan))], .ok)
        #expect(encoded.status == .internalServerError)
        #expect(encoded.headers[.contentType] == "application/json")
        #expect(
            try await Self.body(of: encoded)
                == #"{"message":"the response could not be encoded as JSON","statusCode":500}"#)
    }

    @Test func objectIDsAreTwentyFourHexCharacters() {
        #expect(BSONObjectIDText.isValid("665f1c2e9b1d4a0012345678"))
        #expect(BSONObjectIDText.isValid("665F1C2E9B1D4A0012345678"))
        #expect(!BSONObjectIDText.isValid("665f1c2e9b1d4a001234567g"))
        #expect(!BSONObjectIDText.isValid("665f1c2e9b1d4a001234567"))
        #expect(!BSONObjectIDText.isValid("665f1c2e9b1d4a00123456789"))
    }

    /// The response body, as a client reads it.
    static func body(of response: Response) async throws -> String {
        let router = Router()
        router.get("r") { _, _ in response }
        return try await Application(router: router).test(.router) { client in
            String(buffer: try await client.execute(uri: "/r", method: .get).body)
        }
    }
}
