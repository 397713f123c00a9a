import Foundation
import Testing

@testable import Messaging

@Suite("NestJS envelope")
struct NestEnvelopeTests {
    @Test func eventsAndRequestsAreTold() throws {
        let event = try NestEnvelope.parse(Data(#"{"pattern":"create_notification","data":{"x":1}}"#.utf8))
        #expect(event == NestEnvelope(pattern: "create_notification", id: nil))
        let request = try NestEnvelope.parse(Data(#"{"pattern":"p","data":null,"id":"abc"}"#.utf8))
        #expect(request.id == "abc")
        #expect(try NestEnvelope.parse(Data(#"{"pattern":"p","id":7}"#.utf8)).id == "7")
    }

    @Test(arguments: [
        (Data("{".utf8), MessageRejection.Kind.malformedJSON),
        (Data([0x7B, 0xC3, 0x28, 0x7D]), .malformedJSON),
        (Data(#"{"pattern":"p","data":"\udc00"}"#.utf8), .malformedJSON),
        (Data(#"{"pattern":"p"} {}"#.utf8), .malformedJSON),
        (Data(#""just a string""#.utf8), .notAnObject),
        (Data("[]".utf8), .notAnObject),
        (Data(#"{"data":1}"#.utf8), .missingPattern),
        (Data(#"{"pattern":""}"#.utf8), .missingPattern),
        (Data(#"{"pattern":42}"#.utf8), .missingPattern),
        (Data(#"{"pattern":"p","id":{}}"#.utf8), .malformedJSON),
    ])
    func invalidBodiesAreRejectedWithTheirKind(_ body: Data, _ kind: MessageRejection.Kind) {
        #expect(throws: MessageRejection.self) { try NestEnvelope.parse(body) }
        do {
            _ = try NestEnvelope.parse(body)
        } catch {
            #expect(error.kind == kind)
        }
    }

    @Test func eventsAreEncodedPatternFirstWithoutID() throws {
        struct Payload: Encodable {
            var email = "a@b.io"
        }
        let body = try NestEnvelope.encodeEvent(pattern: "email_request", data: Payload())
        #expect(String(decoding: body, as: UTF8.self) == #"{"pattern":"email_request","data":{"email":"a@b.io"}}"#)
        let raw = try NestEnvelope.encodeEvent(pattern: "p", rawData: Data("[1, 2]".utf8))
        #expect(String(decoding: raw, as: UTF8.self) == #"{"pattern":"p","data":[1, 2]}"#)
        #expect(throws: MessageRejection.self) {
            try NestEnvelope.encodeEvent(pattern: "p", rawData: Data("{oops".utf8))
        }
    }

    @Test func dataDecodingErrorsNameTheFieldButNotTheValue() {
        struct Payload: Decodable {
            var userID: String
            var count: Int

            enum CodingKeys: String, CodingKey {
                case userID = "user_id"
                case count
            }
        }
        let body = Data(#"{"pattern":"p","data":{"user_id":"secret@example.com","count":"many"}}"#.utf8)
        do {
            _ = try NestEnvelope.decodeData(Payload.self, from: body)
            Issue.record("decoded")
        } catch {
            #expect(error.kind == .invalidData)
            #expect(error.reason == "data.count is not a number")
            #expect(!error.reason.contains("secret@example.com"))
        }
    }
}
