/// A graph node (`N`). `elementID` is sent from Bolt 5.0 on; with 4.4 it is the id as a string.
public struct BoltNode: Sendable, Hashable {
    /// The legacy numeric id; unstable across deletes, prefer `elementID`.
    public var id: Int64
    /// The node's labels.
    public var labels: [String]
    /// The node's properties.
    public var properties: [String: BoltValue]
    /// The element id (Bolt 5); the numeric id as a string on 4.4.
    public var elementID: String

    /// Creates a node; `elementID` defaults to the numeric id as a string.
    public init(id: Int64, labels: [String], properties: [String: BoltValue], elementID: String? = nil) {
        self.id = id
        self.labels = labels
        self.properties = properties
        self.elementID = elementID ?? String(id)
    }
}

/// A relationship with its end nodes (`R`).
public struct BoltRelationship: Sendable, Hashable {
    /// The legacy numeric id; unstable across deletes, prefer `elementID`.
    public var id: Int64
    /// The numeric id of the node the relationship starts at.
    public var startNodeID: Int64
    /// The numeric id of the node it ends at.
    public var endNodeID: Int64
    /// The relationship type, e.g. `FOLLOWS`.
    public var type: String
    /// The relationship's properties.
    public var properties: [String: BoltValue]
    /// The element id (Bolt 5); the numeric id as a string on 4.4.
    public var elementID: String
    /// The element id of the start node.
    public var startNodeElementID: String
    /// The element id of the end node.
    public var endNodeElementID: String

    /// Creates a relationship; element ids default to the numeric ids as strings.
    public init(
        id: Int64, startNodeID: Int64, endNodeID: Int64, type: String, properties: [String: BoltValue],
        elementID: String? = nil, startNodeElementID: String? = nil, endNodeElementID: String? = nil
    ) {
        self.id = id
        self.startNodeID = startNodeID
        self.endNodeID = endNodeID
        self.type = type
        self.properties = properties
        self.elementID = elementID ?? String(id)
        self.startNodeElementID = startNodeElementID ?? String(startNodeID)
        self.endNodeElementID = endNodeElementID ?? String(endNodeID)
    }
}

/// A relationship inside a path, without its end nodes (`r`).
public struct BoltUnboundRelationship: Sendable, Hashable {
    /// The legacy numeric id; unstable across deletes, prefer `elementID`.
    public var id: Int64
    /// The relationship type.
    public var type: String
    /// The relationship's properties.
    public var properties: [String: BoltValue]
    /// The element id (Bolt 5); the numeric id as a string on 4.4.
    public var elementID: String

    /// Creates a relationship without end nodes; `elementID` defaults to the numeric id as a string.
    public init(id: Int64, type: String, properties: [String: BoltValue], elementID: String? = nil) {
        self.id = id
        self.type = type
        self.properties = properties
        self.elementID = elementID ?? String(id)
    }
}

/// A path (`P`): its nodes, relationships and the index sequence that walks them.
public struct BoltPath: Sendable, Hashable {
    /// The distinct nodes on the path.
    public var nodes: [BoltNode]
    /// The distinct relationships on the path.
    public var relationships: [BoltUnboundRelationship]
    /// Alternating relationship (1-based, negative when walked backwards) and node indices, from the first node.
    public var indices: [Int64]

    /// Creates a path.
    public init(nodes: [BoltNode], relationships: [BoltUnboundRelationship], indices: [Int64]) {
        self.nodes = nodes
        self.relationships = relationships
        self.indices = indices
    }
}

/// A date (`D`): days since 1970-01-01.
public struct BoltDate: Sendable, Hashable {
    /// Days since 1970-01-01; negative before it.
    public var daysSinceEpoch: Int64
    /// Creates a date.
    public init(daysSinceEpoch: Int64) { self.daysSinceEpoch = daysSinceEpoch }
}

/// A time of day with a UTC offset (`T`).
public struct BoltTime: Sendable, Hashable {
    /// Nanoseconds since midnight, local time.
    public var nanoseconds: Int64
    /// The offset from UTC in seconds.
    public var offsetSeconds: Int64
    /// Creates a time with an offset.
    public init(nanoseconds: Int64, offsetSeconds: Int64) {
        self.nanoseconds = nanoseconds
        self.offsetSeconds = offsetSeconds
    }
}

/// A time of day without a zone (`t`).
public struct BoltLocalTime: Sendable, Hashable {
    /// Nanoseconds since midnight.
    public var nanoseconds: Int64
    /// Creates a local time.
    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }
}

/// A date and time with an offset or a zone name.
///
/// Bolt 5 (and 4.4 with the `utc` patch) sends UTC seconds (`I`, `i`); older servers send local
/// seconds (`F`, `f`). `isUTC` says which the seconds are, and the encoder keeps the form it was given.
public struct BoltDateTime: Sendable, Hashable {
    /// The zone of a date-time: a fixed offset, or a named zone.
    public enum Zone: Sendable, Hashable {
        /// A fixed offset from UTC, in seconds (e.g. 3600 for +01:00).
        case offset(seconds: Int64)
        /// A named time zone, e.g. `Europe/Paris`.
        case id(String)
    }

    /// Seconds since 1970-01-01, UTC or local as `isUTC` says.
    public var seconds: Int64
    /// Nanoseconds within the second.
    public var nanoseconds: Int64
    /// The offset or zone name.
    public var zone: Zone
    /// Whether `seconds` count UTC (Bolt 5) or local time (older servers).
    public var isUTC: Bool

    /// Creates a date-time; `seconds` are UTC unless `isUTC` is `false`.
    public init(seconds: Int64, nanoseconds: Int64, zone: Zone, isUTC: Bool = true) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
        self.zone = zone
        self.isUTC = isUTC
    }
}

/// A date and time without a zone (`d`).
public struct BoltLocalDateTime: Sendable, Hashable {
    /// Seconds since 1970-01-01, local time.
    public var seconds: Int64
    /// Nanoseconds within the second.
    public var nanoseconds: Int64
    /// Creates a local date-time.
    public init(seconds: Int64, nanoseconds: Int64) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }
}

/// A duration (`E`).
public struct BoltDuration: Sendable, Hashable {
    /// The months part.
    public var months: Int64
    /// The days part.
    public var days: Int64
    /// The seconds part.
    public var seconds: Int64
    /// The nanoseconds part.
    public var nanoseconds: Int64
    /// Creates a duration from its four parts, which Cypher keeps separate (a month has no fixed length).
    public init(months: Int64, days: Int64, seconds: Int64, nanoseconds: Int64) {
        self.months = months
        self.days = days
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }
}

/// A spatial point (`X` in 2D, `Y` in 3D).
public struct BoltPoint: Sendable, Hashable {
    /// The coordinate system: 7203 (Cartesian 2D), 9157 (Cartesian 3D), 4326 (WGS-84 2D), 4979 (WGS-84 3D).
    public var srid: Int64
    /// The x coordinate, or longitude.
    public var x: Double
    /// The y coordinate, or latitude.
    public var y: Double
    /// The z coordinate, or height; `nil` for a 2D point.
    public var z: Double?
    /// Creates a point; without `z` it is 2D.
    public init(srid: Int64, x: Double, y: Double, z: Double? = nil) {
        self.srid = srid
        self.x = x
        self.y = y
        self.z = z
    }
}
