public import XMLRPC

/// One argument of a curation procedure (``RPC/CallProcedure``), as the SQL function in schema
/// `curation` takes it: `bigint`, `double precision`, `text` or `bigint[]`.
///
/// On the wire an argument is an XML-RPC scalar (`int`, `double`, `string`) or an array of
/// ints; an int beyond 32 bits travels as `<i8>`.
public enum ProcedureArgument: Sendable, Hashable {
    /// A `bigint`.
    case int(Int64)
    /// A `double precision`.
    case double(Double)
    /// A `text`.
    case text(String)
    /// A `bigint[]` (e.g. the ids a procedure works on).
    case intArray([Int64])

    /// The argument as it crosses the wire.
    public var wireValue: XMLRPCValue {
        switch self {
        case .int(let v): .int(Int(v))
        case .double(let v): .double(v)
        case .text(let v): .string(v)
        case .intArray(let list): .array(list.map { .int(Int($0)) })
        }
    }

    /// The argument a wire value stands for; nil when it is none of an int, a double, a string
    /// or an array of ints.
    public init?(wireValue: XMLRPCValue) {
        switch wireValue {
        case .int(let v): self = .int(Int64(v))
        case .double(let v): self = .double(v)
        case .string(let v): self = .text(v)
        case .array(let items):
            var list: [Int64] = []
            list.reserveCapacity(items.count)
            for item in items {
                guard let n = item.intValue else { return nil }
                list.append(Int64(n))
            }
            self = .intArray(list)
        default: return nil
        }
    }

    /// The SQL type the argument is passed as.
    public var sqlType: String {
        switch self {
        case .int: "bigint"
        case .double: "double precision"
        case .text: "text"
        case .intArray: "bigint[]"
        }
    }
}
