import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The page's files, read once from the binary's resources (`Sources/Console/Resources`): no build
/// step, nothing fetched from elsewhere, so the console works offline.
struct ConsoleAssets: Sendable {
    static let files: [String: String] = [
        "console.js": "text/javascript; charset=utf-8",
        "console.css": "text/css; charset=utf-8",
    ]
    /// Scripts and styles only from this server, no inline script, no framing.
    static let securityHeaders: HTTPFields = {
        var headers: HTTPFields = [
            .contentSecurityPolicy:
                "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
                + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            .cacheControl: "no-store",
        ]
        if let name = HTTPField.Name("X-Content-Type-Options") { headers[name] = "nosniff" }
        if let name = HTTPField.Name("Referrer-Policy") { headers[name] = "same-origin" }
        return headers
    }()

    var index: String
    var loginTemplate: String
    var statics: [String: String]

    static func load() throws -> ConsoleAssets {
        guard let directory = Bundle.module.url(forResource: "Resources", withExtension: nil) else {
            throw ConsoleRequestError(message: "the console's resources are missing from the bundle")
        }
        func read(_ name: String) throws -> String {
            try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
        }
        var statics: [String: String] = [:]
        for name in Self.files.keys {
            statics[name] = try read(name)
        }
        return ConsoleAssets(index: try read("index.html"), loginTemplate: try read("login.html"), statics: statics)
    }

    /// The sign-in form, with an (escaped) message when the last attempt failed.
    func loginPage(error: String? = nil) -> String {
        let message = error.map { "<p class=\"error\" role=\"alert\">\(Self.escapeHTML($0))</p>" } ?? ""
        return self.loginTemplate.replacingOccurrences(of: "<!--message-->", with: message)
    }

    func page(_ html: String, status: HTTPResponse.Status) -> Response {
        var headers = Self.securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    func staticFile(_ name: String) -> Response {
        guard let type = Self.files[name], let text = self.statics[name] else {
            return Response(status: .notFound)
        }
        var headers = Self.securityHeaders
        headers[.contentType] = type
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// Escapes text for HTML element content and attribute values.
    static func escapeHTML(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
