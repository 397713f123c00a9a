import Foundation
import Testing

@testable import Console

@Suite struct DeadLetterViewTests {
    func view(_ body: String, full: Bool = false) -> DeadLetterView {
        DeadLetterView(
            id: "m-1", messageID: "m-1", pattern: "create_notification", reason: "invalid", kind: "permanent",
            retryCount: 0, firstFailureAt: nil, deadLetteredAt: nil, body: Array(body.utf8), full: full)
    }

    @Test func jsonBodiesArePrettyPrintedWithSortedKeys() throws {
        let view = self.view(#"{"pattern":"x","data":{"b":1,"a":"</script>"}}"#)
        let lines = view.body.split(separator: "\n")
        #expect(lines.count == 7, "\(view.body)")
        // Keys sorted, nested ones indented further, the text unchanged.
        let data = try #require(view.body.range(of: "\"data\""))
        let pattern = try #require(view.body.range(of: "\"pattern\""))
        #expect(data.lowerBound < pattern.lowerBound)
        #expect(lines.contains { $0.hasPrefix("    \"a\"") && $0.contains("\"</script>\"") })
        let reparsed = try JSONSerialization.jsonObject(with: Data(view.body.utf8)) as? [String: Any]
        #expect((reparsed?["data"] as? [String: Any])?["b"] as? Int == 1)
        #expect(!view.truncated)
        #expect(view.bodyLength == view.body.count)
    }

    @Test func otherBodiesAreShownAsTheirTextUnchanged() {
        let markup = "<script>alert(1)</script> & not json"
        #expect(self.view(markup).body == markup)
        // Invalid UTF-8 is replaced, not dropped or passed through.
        let view = DeadLetterView(
            id: "x", messageID: nil, pattern: nil, reason: nil, kind: nil, retryCount: 0, firstFailureAt: nil,
            deadLetteredAt: nil, body: [0x61, 0xFF, 0x62], full: false)
        #expect(view.body == "a\u{FFFD}b")
    }

    @Test func longBodiesAreCutUnlessTheWholeIsAsked() {
        let long = String(repeating: "x", count: DeadLetterView.previewLength + 10)
        let preview = self.view(long)
        #expect(preview.truncated)
        #expect(preview.body.count == DeadLetterView.previewLength)
        #expect(preview.bodyLength == DeadLetterView.previewLength + 10)
        let whole = self.view(long, full: true)
        #expect(!whole.truncated)
        #expect(whole.body == long)
        let exact = self.view(String(repeating: "y", count: DeadLetterView.previewLength))
        #expect(!exact.truncated)
    }

    @Test func theAnswerUsesSnakeCaseAndEscapesNothingItself() throws {
        let data = try JSONEncoder().encode(self.view("<b>"))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["message_id"] as? String == "m-1")
        #expect(object["retry_count"] as? Int == 0)
        #expect(object["body"] as? String == "<b>")
        #expect(object["truncated"] as? Bool == false)
    }

    @Test func pagesAreNewestFirst() {
        // Queue order is oldest first.
        let page1 = Page(oldestFirst: Array(1...25), page: 1, pageSize: 10)
        #expect(page1.items == Array((16...25).reversed()))
        #expect(page1.total == 25)
        #expect(page1.pages == 3)
        let page3 = Page(oldestFirst: Array(1...25), page: 3, pageSize: 10)
        #expect(page3.items == [5, 4, 3, 2, 1])
        // Out of range pages are clamped; an empty list has one empty page.
        #expect(Page(oldestFirst: Array(1...25), page: 9, pageSize: 10).page == 3)
        #expect(Page(oldestFirst: Array(1...25), page: 0, pageSize: 10).items.first == 25)
        let empty = Page<Int>(oldestFirst: [], page: 1, pageSize: 10)
        #expect(empty.items.isEmpty)
        #expect(empty.pages == 1)
    }
}
