import NIOCore

/// A Bolt protocol version (`major.minor`).
public struct BoltVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The major version, e.g. 5 in 5.4.
    public var major: UInt8
    /// The minor version, e.g. 4 in 5.4.
    public var minor: UInt8

    /// Creates the version `major.minor`.
    public init(_ major: UInt8, _ minor: UInt8) {
        self.major = major
        self.minor = minor
    }

    /// Versions order by major, then minor.
    public static func < (lhs: BoltVersion, rhs: BoltVersion) -> Bool {
        (lhs.major, lhs.minor) < (rhs.major, rhs.minor)
    }

    /// The version as `major.minor`, e.g. `5.4`.
    public var description: String { "\(self.major).\(self.minor)" }

    /// 5.1 moved authentication out of HELLO into LOGON.
    var usesLogon: Bool { self >= BoltVersion(5, 1) }
    /// 5.0 added element ids to graph structures.
    var hasElementIDs: Bool { self.major >= 5 }
    /// 5.3 made `bolt_agent` in HELLO mandatory.
    var needsBoltAgent: Bool { self >= BoltVersion(5, 3) }
}

/// The opening exchange: the magic preamble and four version proposals, each a version with a range
/// of minor versions below it.
enum BoltHandshake {
    static let magic: UInt32 = 0x6060_B017

    typealias Proposal = (version: BoltVersion, range: UInt8)

    /// Offered in order of preference: 5.4 down to 5.0, then 4.4 (ArcadeDB and Neo4j 4.4).
    static let proposals: [Proposal] = [
        (BoltVersion(5, 4), 4),
        (BoltVersion(4, 4), 0),
    ]

    /// The proposals for a configuration: without Bolt 5 when it is turned off.
    static func proposals(allowBolt5: Bool) -> [Proposal] {
        allowBolt5 ? self.proposals : self.proposals.filter { $0.version.major < 5 }
    }

    static func encodeProposal(_ proposals: [Proposal] = Self.proposals, into buffer: inout ByteBuffer) {
        buffer.writeInteger(self.magic)
        for index in 0..<4 {
            if index < proposals.count {
                let proposal = proposals[index]
                buffer.writeBytes([0, proposal.range, proposal.version.minor, proposal.version.major])
            } else {
                buffer.writeInteger(UInt32(0))
            }
        }
    }

    /// Whether a version the server chose is one we offered.
    static func isOffered(_ version: BoltVersion, in proposals: [Proposal] = Self.proposals) -> Bool {
        proposals.contains { proposal in
            version.major == proposal.version.major && version.minor <= proposal.version.minor
                && version.minor >= proposal.version.minor &- proposal.range
        }
    }
}
