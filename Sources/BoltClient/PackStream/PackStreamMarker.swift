/// PackStream v1 marker bytes and structure tags.
enum PackStreamMarker {
    static let null: UInt8 = 0xC0
    static let float64: UInt8 = 0xC1
    static let `false`: UInt8 = 0xC2
    static let `true`: UInt8 = 0xC3
    static let int8: UInt8 = 0xC8
    static let int16: UInt8 = 0xC9
    static let int32: UInt8 = 0xCA
    static let int64: UInt8 = 0xCB
    static let bytes8: UInt8 = 0xCC
    static let bytes16: UInt8 = 0xCD
    static let bytes32: UInt8 = 0xCE
    static let tinyString: UInt8 = 0x80
    static let string8: UInt8 = 0xD0
    static let string16: UInt8 = 0xD1
    static let string32: UInt8 = 0xD2
    static let tinyList: UInt8 = 0x90
    static let list8: UInt8 = 0xD4
    static let list16: UInt8 = 0xD5
    static let list32: UInt8 = 0xD6
    static let tinyMap: UInt8 = 0xA0
    static let map8: UInt8 = 0xD8
    static let map16: UInt8 = 0xD9
    static let map32: UInt8 = 0xDA
    static let tinyStruct: UInt8 = 0xB0
}

/// Structure tags of the Bolt value types.
enum PackStreamTag {
    static let node: UInt8 = 0x4E  // N
    static let relationship: UInt8 = 0x52  // R
    static let unboundRelationship: UInt8 = 0x72  // r
    static let path: UInt8 = 0x50  // P
    static let date: UInt8 = 0x44  // D
    static let time: UInt8 = 0x54  // T
    static let localTime: UInt8 = 0x74  // t
    static let dateTimeUTC: UInt8 = 0x49  // I
    static let dateTimeZoneIDUTC: UInt8 = 0x69  // i
    static let dateTimeLegacy: UInt8 = 0x46  // F
    static let dateTimeZoneIDLegacy: UInt8 = 0x66  // f
    static let localDateTime: UInt8 = 0x64  // d
    static let duration: UInt8 = 0x45  // E
    static let point2D: UInt8 = 0x58  // X
    static let point3D: UInt8 = 0x59  // Y
}
