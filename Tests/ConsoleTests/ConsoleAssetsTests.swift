import Foundation
import HTTPTypes
import Testing

@testable import Console

/// The page's own files: data reaches the DOM only as text.
@Suite struct ConsoleAssetsTests {
    @Test func thePageScriptNeverParsesDataAsHTML() throws {
        let assets = try ConsoleAssets.load()
        let script = try #require(assets.statics["console.js"])
        for forbidden in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"] {
            #expect(!script.contains(forbidden), "console.js uses \(forbidden)")
        }
        #expect(script.contains("textContent"))
    }

    @Test func thePagesLoadNothingFromElsewhereAndHaveNoInlineScript() throws {
        let assets = try ConsoleAssets.load()
        for html in [assets.index, assets.loginPage()] {
            #expect(!html.contains("http://"))
            #expect(!html.contains("https://"))
            #expect(!html.contains("<script>"))
        }
        #expect(assets.index.contains(#"<script src="/static/console.js" defer></script>"#))
        let policy = try #require(ConsoleAssets.securityHeaders[.contentSecurityPolicy])
        #expect(policy.contains("script-src 'self'"))
    }

    @Test func theSignInMessageIsEscaped() throws {
        let assets = try ConsoleAssets.load()
        let page = assets.loginPage(error: #"<img src=x onerror="1">"#)
        #expect(page.contains("&lt;img src=x onerror=&quot;1&quot;&gt;"))
        #expect(!page.contains("<img"))
        #expect(!assets.loginPage().contains("class=\"error\""))
    }

    @Test func formFieldsAreDecoded() {
        #expect(ConsoleRoutes.formField("token", in: "token=a%2Bb+c%26d") == "a+b c&d")
        #expect(ConsoleRoutes.formField("token", in: "x=1&token=&y=2") == "")
        #expect(ConsoleRoutes.formField("token", in: "tokens=1") == nil)
    }
}
