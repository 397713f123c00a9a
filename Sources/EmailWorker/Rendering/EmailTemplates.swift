import Foundation
import Mustache

/// A rendered mail: subject, plain-text part and HTML part.
public struct RenderedEmail: Sendable, Equatable {
    public var subject: String
    public var text: String
    public var html: String
}

/// The seven templates (subject, HTML and text per type, a shared HTML layout), read from the
/// package's resources once at start-up and kept in memory. Variables are HTML-escaped in the HTML
/// part (the Mustache default) and inserted as they are in the subject and text part.
public struct EmailTemplates: Sendable {
    let library: MustacheLibrary

    /// Loads every template from the bundled `Templates` folder.
    ///
    /// - Throws: ``EmailTemplateError`` when the folder is missing, a template does not parse, or a
    ///   type lacks one of its three templates.
    public static func load() async throws -> EmailTemplates {
        guard let url = Bundle.module.url(forResource: "Templates", withExtension: nil) else {
            throw EmailTemplateError("the Templates resource folder is missing from the bundle")
        }
        return try await self.load(directory: url.path)
    }

    /// Loads templates from a folder laid out as `<type>/{subject,html,text}.mustache` plus `layout` and `code`.
    public static func load(directory: String) async throws -> EmailTemplates {
        let library: MustacheLibrary
        do {
            library = try await MustacheLibrary(directory: directory)
        } catch {
            throw EmailTemplateError("the templates in \(directory) do not parse: \(error)")
        }
        for type in EmailType.allCases {
            for part in ["subject", "html", "text"] where library.getTemplate(named: "\(type.rawValue)/\(part)") == nil
            {
                throw EmailTemplateError("\(type.rawValue)/\(part).mustache is missing")
            }
        }
        return EmailTemplates(library: library)
    }

    /// Renders one type for a recipient (and code).
    ///
    /// - Throws: ``EmailTemplateError`` if a template renders to nothing.
    public func render(_ type: EmailType, email: String, otpCode: String?) throws -> RenderedEmail {
        var values: [String: String] = ["email": email]
        if let otpCode {
            values["otpCode"] = otpCode
        }
        guard let subject = self.library.render(values, withTemplate: "\(type.rawValue)/subject"),
            let text = self.library.render(values, withTemplate: "\(type.rawValue)/text"),
            let html = self.library.render(values, withTemplate: "\(type.rawValue)/html")
        else {
            throw EmailTemplateError("the templates of \(type.rawValue) did not render")
        }
        return RenderedEmail(
            subject: subject.trimmingCharacters(in: .whitespacesAndNewlines),
            text: Self.tidy(text),
            html: Self.tidy(html)
        )
    }

    /// No leading blank lines, exactly one newline at the end.
    private static func tidy(_ text: String) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        while let first = lines.first, first.trimmingCharacters(in: .whitespaces).isEmpty {
            lines.removeFirst()
        }
        while let last = lines.last, last.trimmingCharacters(in: .whitespaces).isEmpty {
            lines.removeLast()
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Why the templates could not be loaded or rendered.
public struct EmailTemplateError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { "email templates: \(self.message)" }
}
