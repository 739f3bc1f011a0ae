extension XMLRPCValue {
    /// The integer, when this is an `int`.
    public var intValue: Int? { if case .int(let v) = self { v } else { nil } }
    /// The boolean, when this is a `boolean`.
    public var boolValue: Bool? { if case .bool(let v) = self { v } else { nil } }
    /// The string, when this is a `string`.
    public var stringValue: String? { if case .string(let v) = self { v } else { nil } }
    /// The number, when this is a `double` or an `int` (widened).
    public var doubleValue: Double? {
        switch self {
        case .double(let v): v
        case .int(let v): Double(v)
        default: nil
        }
    }
    /// The date-time, when this is a `dateTime.iso8601`.
    public var dateTimeValue: XMLRPCDateTime? { if case .dateTime(let v) = self { v } else { nil } }
    /// The bytes, when this is a `base64`.
    public var bytesValue: [UInt8]? { if case .base64(let v) = self { v } else { nil } }
    /// The members, when this is a `struct`.
    public var structValue: [String: XMLRPCValue]? { if case .struct(let v) = self { v } else { nil } }
    /// The elements, when this is an `array`.
    public var arrayValue: [XMLRPCValue]? { if case .array(let v) = self { v } else { nil } }
    /// True for `nil`.
    public var isNil: Bool { if case .nil = self { true } else { false } }

    /// A struct member; nil when this is not a struct or has no such member.
    public subscript(member: String) -> XMLRPCValue? { structValue?[member] }
    /// An array element; nil when this is not an array or the index is out of range.
    public subscript(index: Int) -> XMLRPCValue? {
        guard case .array(let a) = self, a.indices.contains(index) else { return nil }
        return a[index]
    }

    /// The value converted to `T`, or an ``XMLRPCError/Code/invalidParameters`` error naming
    /// what was expected and what came.
    public func decode<T: XMLRPCValueConvertible>(as type: T.Type = T.self,
                                                  what: String = "value") throws(XMLRPCError) -> T {
        guard let v = T(xmlrpcValue: self) else {
            throw XMLRPCError(.invalidParameters,
                              "\(what) should be \(T.xmlrpcTypeName), got \(self.type)")
        }
        return v
    }

    /// A struct member converted to `T` (a missing member reads as `nil`, so `T` may be an
    /// optional); throws ``XMLRPCError/Code/invalidParameters`` otherwise.
    public func member<T: XMLRPCValueConvertible>(_ name: String, as type: T.Type = T.self)
        throws(XMLRPCError) -> T
    {
        guard case .struct(let m) = self else {
            throw XMLRPCError(.invalidParameters, "expected a struct with member '\(name)', got \(self.type)")
        }
        guard let v = m[name] else {
            if let absent = T(xmlrpcValue: .nil) { return absent }
            throw XMLRPCError(.invalidParameters, "struct member '\(name)' is missing")
        }
        return try v.decode(as: T.self, what: "struct member '\(name)'")
    }
}

extension Array where Element == XMLRPCValue {
    /// The parameter at `index` converted to `T`; throws ``XMLRPCError/Code/invalidParameters``
    /// when it is missing or of another type. A missing trailing parameter reads as `nil`, so
    /// an optional `T` makes it optional.
    public func parameter<T: XMLRPCValueConvertible>(_ index: Int, as type: T.Type = T.self)
        throws(XMLRPCError) -> T
    {
        if index >= count {
            if let v = T(xmlrpcValue: .nil) { return v }
            throw XMLRPCError(.invalidParameters,
                              "parameter \(index + 1) (\(T.xmlrpcTypeName)) is missing")
        }
        return try self[index].decode(as: T.self, what: "parameter \(index + 1)")
    }
}
