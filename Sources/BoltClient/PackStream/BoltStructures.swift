/// A graph node (`N`). `elementID` is sent from Bolt 5.0 on; with 4.4 it is the id as a string.
public struct BoltNode: Sendable, Hashable {
    public var id: Int64
    public var labels: [String]
    public var properties: [String: BoltValue]
    public var elementID: String

    public init(id: Int64, labels: [String], properties: [String: BoltValue], elementID: String? = nil) {
        self.id = id
        self.labels = labels
        self.properties = properties
        self.elementID = elementID ?? String(id)
    }
}

/// A relationship with its end nodes (`R`).
public struct BoltRelationship: Sendable, Hashable {
    public var id: Int64
    public var startNodeID: Int64
    public var endNodeID: Int64
    public var type: String
    public var properties: [String: BoltValue]
    public var elementID: String
    public var startNodeElementID: String
    public var endNodeElementID: String

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
    public var id: Int64
    public var type: String
    public var properties: [String: BoltValue]
    public var elementID: String

    public init(id: Int64, type: String, properties: [String: BoltValue], elementID: String? = nil) {
        self.id = id
        self.type = type
        self.properties = properties
        self.elementID = elementID ?? String(id)
    }
}

/// A path (`P`): its nodes, relationships and the index sequence that walks them.
public struct BoltPath: Sendable, Hashable {
    public var nodes: [BoltNode]
    public var relationships: [BoltUnboundRelationship]
    public var indices: [Int64]

    public init(nodes: [BoltNode], relationships: [BoltUnboundRelationship], indices: [Int64]) {
        self.nodes = nodes
        self.relationships = relationships
        self.indices = indices
    }
}

/// A date (`D`): days since 1970-01-01.
public struct BoltDate: Sendable, Hashable {
    public var daysSinceEpoch: Int64
    public init(daysSinceEpoch: Int64) { self.daysSinceEpoch = daysSinceEpoch }
}

/// A time of day with a UTC offset (`T`).
public struct BoltTime: Sendable, Hashable {
    public var nanoseconds: Int64
    public var offsetSeconds: Int64
    public init(nanoseconds: Int64, offsetSeconds: Int64) {
        self.nanoseconds = nanoseconds
        self.offsetSeconds = offsetSeconds
    }
}

/// A time of day without a zone (`t`).
public struct BoltLocalTime: Sendable, Hashable {
    public var nanoseconds: Int64
    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }
}

/// A date and time with an offset or a zone name.
///
/// Bolt 5 (and 4.4 with the `utc` patch) sends UTC seconds (`I`, `i`); older servers send local
/// seconds (`F`, `f`). `isUTC` says which the seconds are, and the encoder keeps the form it was given.
public struct BoltDateTime: Sendable, Hashable {
    public enum Zone: Sendable, Hashable {
        case offset(seconds: Int64)
        case id(String)
    }

    public var seconds: Int64
    public var nanoseconds: Int64
    public var zone: Zone
    public var isUTC: Bool

    public init(seconds: Int64, nanoseconds: Int64, zone: Zone, isUTC: Bool = true) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
        self.zone = zone
        self.isUTC = isUTC
    }
}

/// A date and time without a zone (`d`).
public struct BoltLocalDateTime: Sendable, Hashable {
    public var seconds: Int64
    public var nanoseconds: Int64
    public init(seconds: Int64, nanoseconds: Int64) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }
}

/// A duration (`E`).
public struct BoltDuration: Sendable, Hashable {
    public var months: Int64
    public var days: Int64
    public var seconds: Int64
    public var nanoseconds: Int64
    public init(months: Int64, days: Int64, seconds: Int64, nanoseconds: Int64) {
        self.months = months
        self.days = days
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }
}

/// A spatial point (`X` in 2D, `Y` in 3D).
public struct BoltPoint: Sendable, Hashable {
    public var srid: Int64
    public var x: Double
    public var y: Double
    public var z: Double?
    public init(srid: Int64, x: Double, y: Double, z: Double? = nil) {
        self.srid = srid
        self.x = x
        self.y = y
        self.z = z
    }
}
