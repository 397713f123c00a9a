import ArgumentParser
import EmailWorker
import Foundation
import Logging
import Messaging
import Observability
import SMTPClient

/// `decode-async email preview|send-test`: render a template locally, or send one through the
/// configured SMTP server.
struct EmailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "email",
        abstract: "Preview the email templates or send a test email.",
        subcommands: [EmailPreviewCommand.self, EmailSendTestCommand.self]
    )
}

extension EmailType: ExpressibleByArgument {}

/// `decode-async email preview <type> [--data json] [--html|--text]`.
struct EmailPreviewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preview",
        abstract: "Render one email type with sample or given data (subject, text and HTML parts).",
        discussion: "Uses the templates in EMAIL_TEMPLATES_DIR when it is set, else the bundled ones."
    )

    @Argument(help: "The email type: \(EmailType.allCases.map(\.rawValue).joined(separator: ", ")).")
    var type: EmailType

    @Option(help: #"The request's data as JSON, e.g. {"email":"a@b.io","otpCode":"3f9a1c"}."#)
    var data: String?

    @Flag(help: "Print only the HTML part.")
    var html = false

    @Flag(help: "Print only the text part.")
    var text = false

    func validate() throws {
        if self.html && self.text {
            throw ValidationError("--html and --text exclude each other")
        }
    }

    func run() async throws {
        let fields: EmailRequest.Fields
        if let data = self.data {
            do {
                fields = try JSONDecoder().decode(EmailRequest.Fields.self, from: Data(data.utf8))
            } catch {
                throw ValidationError("--data is not a JSON object: \(error)")
            }
        } else {
            fields = EmailRequest.Fields(email: "user@example.com", otpCode: self.type.requiresOTPCode ? "3f9a1c" : nil)
        }
        let valid: EmailRequest.Valid
        do {
            valid = try EmailRequest(type: self.type.rawValue, data: fields).validated()
        } catch {
            throw ValidationError("the worker would dead-letter this request: \(error.reason)")
        }
        // The worker's templates: EMAIL_TEMPLATES_DIR when set, so wording changes show without a rebuild.
        var settings = SettingsReader(reader: try await ConfigurationSource.reader())
        let templates =
            if let directory = settings.string("EMAIL_TEMPLATES_DIR") {
                try await EmailTemplates.load(directory: directory)
            } else {
                try await EmailTemplates.load()
            }
        let mail = try templates.render(valid.type, email: valid.recipient.address, otpCode: valid.otpCode)
        if self.html {
            print(mail.html, terminator: "")
        } else if self.text {
            print(mail.text, terminator: "")
        } else {
            print(
                "Subject: \(mail.subject)\nTo: \(valid.recipient)\n\n--- text ---\n\(mail.text)\n--- html ---\n\(mail.html)"
            )
        }
    }
}

/// `decode-async email send-test <address> [--type t]`: one mail through the configured server.
struct EmailSendTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send-test",
        abstract: "Send one email through the configured SMTP server (SMTP_* variables) and print its reply."
    )

    @Argument(help: "The recipient address.")
    var address: String

    @Option(help: "The email type to send.")
    var type: EmailType = .welcomeMessage

    func run() async throws {
        let configuration: DecodeAsyncConfiguration
        do {
            configuration = try DecodeAsyncConfiguration.load(
                from: try await ConfigurationSource.reader(), services: [.email])
        } catch let error as ConfigurationErrors {
            for line in error.errors {
                printError("decode-async: configuration: \(line)")
            }
            throw ExitCode(78)
        }
        LoggingBootstrap.bootstrap(format: configuration.shared.logFormat, level: .warning)
        guard let email = configuration.email else { throw ExitCode(78) }
        let recipient: SMTPAddress
        do {
            recipient = try SMTPAddress(self.address)
        } catch {
            throw ValidationError("\(self.address) is not one valid address: \(error.message)")
        }
        let sender: (displayName: String?, address: SMTPAddress)
        do {
            sender = try EmailFlow.sender(email)
        } catch {
            printError("decode-async email send-test: \(error)")
            throw ExitCode(78)
        }
        let code = self.type.requiresOTPCode ? String(UUID().uuidString.lowercased().prefix(6)) : nil
        let mail = try await EmailFlow.templates(email).render(self.type, email: recipient.address, otpCode: code)
        let client = SMTPClient(configuration: EmailFlow.smtpConfiguration(email))
        do {
            let reply = try await client.send(
                SMTPMessage(
                    from: sender.address, fromName: sender.displayName, to: [recipient], subject: mail.subject,
                    text: mail.text, html: mail.html, headers: [("X-Decode-Email-Type", self.type.rawValue)]))
            await client.shutdown()
            print("sent \(self.type.rawValue) to \(recipient) via \(email.smtpHost):\(email.smtpPort): \(reply)")
        } catch {
            await client.shutdown()
            printError("decode-async email send-test: \(error)")
            throw ExitCode.failure
        }
    }
}
