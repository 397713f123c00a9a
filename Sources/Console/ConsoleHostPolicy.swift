import Foundation

/// Which `Host` headers the console answers (docs/console.md, "Sign-in and requests").
///
/// Against DNS rebinding: a web page on `evil.example` whose name is made to resolve to 127.0.0.1
/// reaches a loopback console from the victim's browser, but its requests carry
/// `Host: evil.example:<port>`. The console answers only the names it is known by: its bind address,
/// `localhost`, `127.0.0.1` and `[::1]`, with its port, and the names in `CONSOLE_ALLOWED_HOSTS`
/// (a deployment behind a proxy: its public name).
public struct ConsoleHostPolicy: Sendable, Equatable {
    /// The names the console is always reachable by (with its port).
    public static let loopbackNames: Set<String> = ["localhost", "127.0.0.1", "[::1]"]

    /// The port the console listens on; 0: any port (a port chosen at bind time).
    public var port: Int
    /// Lower-cased names that match with the console's port: the loopback names and the bind address.
    public var localNames: Set<String>
    /// Lower-cased `CONSOLE_ALLOWED_HOSTS` entries: `name` (any port) or `name:port` (that port).
    public var allowed: [String]

    /// `bindHost`: `CONSOLE_HOST` (a wildcard address such as `0.0.0.0` names no host and adds nothing).
    public init(bindHost: String, port: Int, allowed: [String] = []) {
        self.port = port
        var names = Self.loopbackNames
        let bind = Self.normalized(bindHost)
        if !bind.isEmpty, !["0.0.0.0", "::", "[::]"].contains(bind) {
            names.insert(bind.contains(":") && !bind.hasPrefix("[") ? "[\(bind)]" : bind)
        }
        self.localNames = names
        self.allowed = allowed.map(Self.normalized).filter { !$0.isEmpty }
    }

    /// Whether a request with this `Host` (`authority`) is answered. A request without one passes:
    /// a browser always sends `Host`, and the rule is there against browsers.
    public func allows(host: String?) -> Bool {
        guard let host, !host.isEmpty else { return true }
        guard let (name, port) = Self.split(Self.normalized(host)) else { return false }
        if self.localNames.contains(name) {
            return self.port == 0 || (port ?? 80) == self.port
        }
        for entry in self.allowed {
            guard let (allowedName, allowedPort) = Self.split(entry), allowedName == name else { continue }
            if allowedPort == nil || allowedPort == port {
                return true
            }
        }
        return false
    }

    static func normalized(_ value: String) -> String {
        var text = value.trimmingCharacters(in: .whitespaces).lowercased()
        // `localhost.` names the same host as `localhost`.
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    /// `name[:port]`, `[v6][:port]`; nil when the port is not a number.
    static func split(_ host: String) -> (name: String, port: Int?)? {
        var name = Substring(host)
        var portText: Substring?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            name = host[...close]
            let rest = host[host.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { return nil }
                portText = rest.dropFirst()
            }
        } else if let colon = host.lastIndex(of: ":") {
            // More than one colon without brackets: an IPv6 address without a port.
            if host.firstIndex(of: ":") == colon {
                name = host[..<colon]
                portText = host[host.index(after: colon)...]
            }
        }
        var port: Int?
        if let portText {
            guard let number = Int(portText), (0...65535).contains(number) else { return nil }
            port = number
        }
        var text = String(name)
        if text.hasSuffix(".") { text.removeLast() }
        return (text, port)
    }
}
