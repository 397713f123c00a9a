import Testing

@testable import EmailWorker

@Suite("Email templates")
struct EmailTemplatesTests {
    static let expected: [EmailType: (subject: String, heading: String, color: String, callout: String)] = [
        .createAccount: (
            "Verify Your Email - Create Your Decode Account", "Welcome to Decode!", "#2c3e50",
            "didn't request this code"
        ),
        .welcomeMessage: (
            "Welcome to Decode! Your Account is Ready", "🎉 Welcome to Decode!", "#2c3e50", "account is now active"
        ),
        .fingerprintVerify: (
            "New Device Login - Verify Your Identity", "🔒 New Device Login Detected", "#e74c3c",
            "https://decode.com/change-password"
        ),
        .forgotPasswordVerify: (
            "Password Reset Request - Verify Your Identity", "🔑 Password Reset Request", "#e74c3c",
            "remember your password"
        ),
        .usernameChangeVerify: (
            "Username Change Request - Verify Your Identity", "🔄 Username Change Request", "#8e44ad",
            "how other people see"
        ),
        .emailChangeVerify: (
            "Email Change Request - Verify Your Identity", "📧 Email Change Request", "#e67e22", "Important:"
        ),
        .newEmailChangeVerify: (
            "Confirm Your New Email Address - Decode Account", "✅ Confirm Your New Email Address", "#27ae60",
            "Security note:"
        ),
    ]

    @Test func everyTypeKeepsTheOriginalsSubjectHeadingColourAndCallout() async throws {
        let templates = try await EmailTemplates.load()
        for type in EmailType.allCases {
            let code: String? = type.requiresOTPCode ? "3f9a1c" : nil
            let mail = try templates.render(type, email: "a@b.io", otpCode: code)
            let expected = try #require(Self.expected[type])
            #expect(mail.subject == expected.subject)
            #expect(mail.html.contains("color: \(expected.color);\">\(expected.heading)</h1>"), "\(type)")
            #expect(mail.html.contains(expected.callout), "\(type)")
            #expect(mail.text.contains(expected.callout), "\(type)")
            #expect(mail.text.hasPrefix(expected.heading.drop { !$0.isASCII || $0 == " " }), "\(type)")
            let footer = "This email was sent to a@b.io. If you have any questions, please contact our support team."
            #expect(mail.html.contains(footer))
            #expect(mail.text.hasSuffix("---\n\(footer)\n"))
            #expect(mail.html.contains("max-width: 600px"))
            if let code {
                #expect(mail.html.contains("<h2 class=\"code\">\(code)</h2>"))
                #expect(mail.text.contains("\n\n\(code)\n\n"))
                #expect(mail.html.contains("<strong>This code will expire in 5 minutes.</strong>"))
                #expect(mail.text.contains("This code will expire in 5 minutes."))
            } else {
                #expect(!mail.html.contains("code-box\""))
                #expect(!mail.text.contains("expire"))
            }
            #expect(!mail.text.contains("<"), "the text part holds no markup: \(type)")
            #expect(!mail.text.contains("{{"))
            #expect(!mail.html.contains("{{"))
        }
    }

    @Test func newEmailChangeNamesTheNewAddressInBold() async throws {
        let mail = try await EmailTemplates.load().render(.newEmailChangeVerify, email: "new@b.io", otpCode: "abc123")
        #expect(mail.html.contains("<strong>new@b.io</strong>"))
        #expect(mail.text.contains("This address, new@b.io, was entered"))
    }

    @Test func escapesEveryVariableInTheHTMLPartOnly() async throws {
        let templates = try await EmailTemplates.load()
        let mail = try templates.render(
            .newEmailChangeVerify, email: "<script>alert('x')</script>&\"@b.io", otpCode: "<b>1</b>")
        #expect(!mail.html.contains("<script>"))
        #expect(!mail.html.contains("<b>1</b>"))
        #expect(mail.html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;@b.io"))
        #expect(mail.html.contains("&lt;b&gt;1&lt;/b&gt;"))
        // The text part is not HTML: the value as it is.
        #expect(mail.text.contains("<script>alert('x')</script>&\"@b.io"))
    }
}
