import Foundation
import JSONText
import Testing

@Suite struct JSONTextTests {
    @Test func plainTextIsOnlyQuoted() {
        #expect(JSONText.quoted("") == #""""#)
        #expect(JSONText.quoted("hello world") == #""hello world""#)
    }

    @Test func quotesAndBackslashesAreEscaped() {
        #expect(JSONText.quoted(#"say "hi""#) == #""say \"hi\"""#)
        #expect(JSONText.quoted(#"C:\path\"#) == #""C:\\path\\""#)
        #expect(JSONText.quoted("/") == #""/""#)
    }

    @Test func controlCharactersAreEscaped() {
        #expect(JSONText.quoted("a\nb\rc\td") == #""a\nb\rc\td""#)
        #expect(JSONText.quoted("\u{0}") == #""\u0000""#)
        #expect(JSONText.quoted("\u{8}\u{c}") == #""\u0008\u000c""#)
        #expect(JSONText.quoted("\u{1b}[0m") == #""\u001b[0m""#)
        #expect(JSONText.quoted("\u{1f}") == #""\u001f""#)
    }

    @Test func everythingElseIsKeptAsItIs() {
        #expect(JSONText.quoted("\u{7f}") == "\"\u{7f}\"")
        #expect(JSONText.quoted("héllo ✓ 日本 🙂") == "\"héllo ✓ 日本 🙂\"")
        // JSON allows U+2028 and U+2029 in strings; they are not escaped.
        #expect(JSONText.quoted("a\u{2028}b\u{2029}c") == "\"a\u{2028}b\u{2029}c\"")
        // A combined character is written scalar by scalar, unchanged.
        #expect(JSONText.quoted("e\u{301}") == "\"e\u{301}\"")
    }

    @Test func appendingWritesAfterWhatIsThere() {
        var out = "{\"k\":"
        JSONText.appendQuoted("v\"", to: &out)
        #expect(out == #"{"k":"v\"""#)
    }

    @Test func anyStringRoundTripsThroughAJSONParser() throws {
        let samples = ["", "\"\\", "\u{0}\u{1}\u{1f} \u{7f}", "line\nbreak", "é🙂\u{2028}", "tab\there"]
        for sample in samples {
            let data = Data("[\(JSONText.quoted(sample))]".utf8)
            let parsed = try JSONSerialization.jsonObject(with: data) as? [String]
            #expect(parsed == [sample])
        }
    }
}
