import NIOCore

/// A client message (Bolt request). Credentials in `hello` and `logon` are never printed.
public enum BoltRequest: Sendable, Equatable {
    /// Opens the session: user agent, routing context and, before Bolt 5.1, the credentials.
    case hello(extra: [String: BoltValue])
    /// Authenticates (Bolt 5.1+); `auth` holds the credentials.
    case logon(auth: [String: BoltValue])
    /// Drops the authentication so the connection can log on again (Bolt 5.1+).
    case logoff
    /// Announces that the client closes the connection; the server sends no answer.
    case goodbye
    /// Ends any transaction or stream and clears a failure, making the connection ready again.
    case reset
    /// Runs a Cypher statement with parameters (values are sent apart from the text, never spliced in).
    case run(query: String, parameters: [String: BoltValue], extra: [String: BoltValue])
    /// Starts an explicit transaction; `extra` names the database (`db`) and access mode (`mode`).
    case begin(extra: [String: BoltValue])
    /// Commits the explicit transaction.
    case commit
    /// Rolls back the explicit transaction.
    case rollback
    /// `n` records to discard, -1 for all; `qid` -1 for the last statement.
    case discard(n: Int64, qid: Int64)
    /// `n` records to stream, -1 for all; `qid` -1 for the last statement.
    case pull(n: Int64, qid: Int64)
    /// Asks for the routing table of a database (the `neo4j` schemes).
    case route(routing: [String: BoltValue], bookmarks: [String], extra: [String: BoltValue])

    /// The kind without arguments, which decides how the server state moves on its summary.
    public enum Kind: Sendable, Equatable {
        /// One kind per request case.
        case hello, logon, logoff, goodbye, reset, run, begin, commit, rollback, discard, pull, route
    }

    /// The request's kind, without its arguments.
    public var kind: Kind {
        switch self {
        case .hello: .hello
        case .logon: .logon
        case .logoff: .logoff
        case .goodbye: .goodbye
        case .reset: .reset
        case .run: .run
        case .begin: .begin
        case .commit: .commit
        case .rollback: .rollback
        case .discard: .discard
        case .pull: .pull
        case .route: .route
        }
    }

    var tag: UInt8 {
        switch self {
        case .hello: 0x01
        case .goodbye: 0x02
        case .reset: 0x0F
        case .run: 0x10
        case .begin: 0x11
        case .commit: 0x12
        case .rollback: 0x13
        case .discard: 0x2F
        case .pull: 0x3F
        case .route: 0x66
        case .logon: 0x6A
        case .logoff: 0x6B
        }
    }

    var fields: [BoltValue] {
        switch self {
        case .hello(let extra): [.map(extra)]
        case .logon(let auth): [.map(auth)]
        case .logoff, .goodbye, .reset, .commit, .rollback: []
        case .run(let query, let parameters, let extra): [.string(query), .map(parameters), .map(extra)]
        case .begin(let extra): [.map(extra)]
        case .discard(let n, let qid), .pull(let n, let qid): [.map(Self.streamExtra(n: n, qid: qid))]
        case .route(let routing, let bookmarks, let extra):
            [.map(routing), .list(bookmarks.map(BoltValue.string)), .map(extra)]
        }
    }

    private static func streamExtra(n: Int64, qid: Int64) -> [String: BoltValue] {
        qid == -1 ? ["n": .int(n)] : ["n": .int(n), "qid": .int(qid)]
    }

    /// Writes the message as PackStream (a structure), not yet chunked.
    func encode(into buffer: inout ByteBuffer, encoder: PackStreamEncoder) {
        encoder.encodeStructure(self.tag, self.fields, into: &buffer)
    }
}

extension BoltRequest: CustomStringConvertible {
    /// The message name (and a RUN's first 80 query characters), for logs; never parameters or credentials.
    public var description: String {
        switch self {
        case .run(let query, _, _): "RUN \(query.prefix(80))"
        case .hello: "HELLO"
        case .logon: "LOGON"
        default: "\(self.kind)".uppercased()
        }
    }
}
