import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One aiosmtpd server of `Peers/smtp_peer.py`, started by a test on a free port of its own and
/// stopped with SIGTERM. Received mails are read back as the JSON the peer wrote after parsing them
/// with Python's email package.
struct SMTPPeer {
    struct Mail: Decodable, Sendable {
        var mailFrom: String
        var rcptTos: [String]
        var mailOptions: [String]
        var tls: Bool
        var clientPort: Int?
        var authenticated: Bool
        var subject: String
        var from: String
        var to: String
        var date: String
        var messageID: String
        var contentType: String
        var emailType: String
        var text: String?
        var html: String?
        var longestLine: Int
        var bareLF: Bool

        enum CodingKeys: String, CodingKey {
            case mailFrom = "mail_from"
            case rcptTos = "rcpt_tos"
            case mailOptions = "mail_options"
            case tls
            case clientPort = "client_port"
            case authenticated, subject, from, to, date
            case messageID = "message_id"
            case contentType = "content_type"
            case emailType = "email_type"
            case text, html
            case longestLine = "longest_line"
            case bareLF = "bare_lf"
        }

        /// The text part with CRLF turned into LF.
        var plainText: String { (self.text ?? "").replacingOccurrences(of: "\r\n", with: "\n") }
        var htmlText: String { (self.html ?? "").replacingOccurrences(of: "\r\n", with: "\n") }
    }

    static let script = "Tests/IntegrationTests/Peers/smtp_peer.py"
    static var python: String {
        ProcessInfo.processInfo.environment["DECODE_ASYNC_PYTHON"]
            ?? TestEnvironment.repositoryRoot.appendingPathComponent(".venv/bin/python").path
    }

    let mode: String
    let directory: URL
    let port: Int
    let pid: Int32

    /// The peer's self-signed certificate (secure and implicit modes).
    var certificatePath: String { self.directory.appendingPathComponent("cert.pem").path }

    /// Starts a peer and waits until it listens.
    static func start(
        _ mode: String, port: Int? = nil, failures: Int = 1, pipelining: Bool = false
    ) async throws -> SMTPPeer {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("decode-async-smtp-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var command = "\"$1\" \"$2\" \"$3\" \"$4\" --failures \"$5\""
        if let port {
            command += " --port \(port)"
        }
        if pipelining {
            command += " --pipelining"
        }
        let output = try await TestEnvironment.run([
            "/bin/sh", "-c", "\(command) >\"$4/peer.log\" 2>&1 & echo $!", "peer", Self.python, Self.script, mode,
            directory.path, String(failures),
        ])
        guard let pid = Int32(output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw PeerFailure(description: "smtp_peer did not start: \(output)")
        }
        let portFile = directory.appendingPathComponent("port")
        do {
            // Done when it listens, or when it has exited (its log then says why).
            try await eventually("smtp_peer \(mode) listens", timeout: .seconds(30)) {
                FileManager.default.fileExists(atPath: portFile.path) || Self.hasExited(pid)
            }
            guard FileManager.default.fileExists(atPath: portFile.path) else {
                throw PeerFailure(description: "exited")
            }
        } catch {
            kill(pid, SIGTERM)
            let log = (try? String(contentsOf: directory.appendingPathComponent("peer.log"), encoding: .utf8)) ?? ""
            throw PeerFailure(description: "smtp_peer \(mode) did not listen: \(log)")
        }
        let text = try String(contentsOf: portFile, encoding: .utf8)
        guard let listening = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw PeerFailure(description: "smtp_peer wrote no port")
        }
        return SMTPPeer(mode: mode, directory: directory, port: listening, pid: pid)
    }

    /// Stops the peer, waits until it exited (a zombie counts: nothing reaps orphans here) and
    /// removes its folder.
    func stop() async {
        defer { try? FileManager.default.removeItem(at: self.directory) }
        kill(self.pid, SIGTERM)
        try? await eventually("smtp_peer \(self.mode) stopped", timeout: .seconds(10)) {
            Self.hasExited(self.pid)
        }
    }

    /// Whether process `pid` has exited; a zombie counts (nothing reaps orphans here).
    static func hasExited(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0 else { return true }
        // /proc files report size 0: read to the end rather than by size.
        let data = FileHandle(forReadingAtPath: "/proc/\(pid)/stat")?.readDataToEndOfFile() ?? Data()
        let stat = String(decoding: data, as: UTF8.self)
        return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
    }

    /// Runs `body` with a started peer; stops it afterwards whatever happens.
    static func with<Result: Sendable>(
        _ mode: String, failures: Int = 1, pipelining: Bool = false, _ body: (SMTPPeer) async throws -> Result
    ) async throws -> Result {
        let peer = try await SMTPPeer.start(mode, failures: failures, pipelining: pipelining)
        do {
            let result = try await body(peer)
            await peer.stop()
            return result
        } catch {
            await peer.stop()
            throw error
        }
    }

    /// Every mail received so far, in order.
    func mails() throws -> [Mail] {
        let folder = self.directory.appendingPathComponent("mail")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0.hasSuffix(".json") }.sorted()
        return try names.map { name in
            try JSONDecoder().decode(Mail.self, from: Data(contentsOf: folder.appendingPathComponent(name)))
        }
    }

    /// Waits until `count` mails arrived and returns them.
    func waitForMails(_ count: Int, timeout: Duration = .seconds(30)) async throws -> [Mail] {
        try await eventually("\(count) mails at the \(self.mode) peer", timeout: timeout) {
            (try self.mails()).count >= count
        }
        return try self.mails()
    }

    struct PeerFailure: Error, CustomStringConvertible {
        var description: String
    }
}

/// A TCP port bound but not listening: connections to it are refused, and no other test's server
/// can take it while it is held. It lies below the ephemeral range (as `Tests/support/ports.py`
/// picks them), so once released for a server of the test, no outgoing connection can take it.
final class ReservedPort: Sendable {
    let port: Int
    private let descriptor: Int32

    init() throws {
        for _ in 0..<200 {
            let port = Int.random(in: 28_000...31_999)
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard descriptor >= 0 else { break }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard bound == 0 else {
                close(descriptor)
                continue
            }
            self.descriptor = descriptor
            self.port = port
            return
        }
        throw SMTPPeer.PeerFailure(description: "could not reserve a port")
    }

    /// Frees the port (for a server to take it).
    func release() {
        close(self.descriptor)
    }
}
