public import Foundation
public import XMLRPC

/// One method of dbrpcserver as both ends of the wire see it: its name, help text and
/// signatures, its typed parameters and result, and how each crosses the wire. `DbHandler`
/// encodes the parameters and decodes the result; `LoadServerMethods` decodes the parameters
/// and encodes the result, with the same code, so the two cannot drift.
///
/// Decoding is strict on both sides. A parameter that does not fit throws an ``XMLRPCError``
/// (-32602) or an ``XMLRPCFault`` with ``ServerFault/invalidArgument``; an answer that does
/// not fit throws ``MalformedAnswer``, never a default.
public protocol RPCCall: Sendable {
    associatedtype Params: Sendable
    associatedtype Result: Sendable

    static var method: RPCMethod { get }
    /// `system.methodHelp`: what the method does, its parameters, its answer and its faults.
    static var help: String { get }
    /// `system.methodSignature`: the accepted shapes of the parameters.
    static var signatures: [XMLRPCMethodSignature] { get }

    static func encode(_ params: Params) -> [XMLRPCValue]
    static func decode(params: [XMLRPCValue]) throws -> Params
    static func encode(result: Result) -> XMLRPCValue
    static func decode(result: XMLRPCValue) throws(MalformedAnswer) -> Result
}

/// An answer of the server that does not have the shape its method promises.
public struct MalformedAnswer: Error, Sendable, Hashable, CustomStringConvertible {
    public var method: RPCMethod
    public var problem: String

    public init(_ method: RPCMethod, _ problem: String) {
        self.method = method
        self.problem = problem
    }

    public var description: String { "\(method.rawValue): malformed answer: \(problem)" }
}

/// Reading an answer: every member must be there with its type.
public struct AnswerReader: Sendable {
    let method: RPCMethod
    let members: [String: XMLRPCValue]

    /// The members of a struct answer.
    public init(_ method: RPCMethod, _ value: XMLRPCValue) throws(MalformedAnswer) {
        guard let members = value.structValue else {
            throw MalformedAnswer(method, "expected a struct, got \(value.type)")
        }
        self.method = method
        self.members = members
    }

    public func int(_ name: String) throws(MalformedAnswer) -> Int {
        guard let v = members[name]?.intValue else { throw missing(name, "int") }
        return v
    }

    public func double(_ name: String) throws(MalformedAnswer) -> Double {
        guard let v = members[name]?.doubleValue, v.isFinite else { throw missing(name, "double") }
        return v
    }

    public func string(_ name: String) throws(MalformedAnswer) -> String {
        guard let v = members[name]?.stringValue else { throw missing(name, "string") }
        return v
    }

    public func bool(_ name: String) throws(MalformedAnswer) -> Bool {
        guard let v = members[name]?.boolValue else { throw missing(name, "boolean") }
        return v
    }

    public func strings(_ name: String) throws(MalformedAnswer) -> [String] {
        guard let list = members[name]?.arrayValue else { throw missing(name, "array of strings") }
        var result: [String] = []
        for item in list {
            guard let s = item.stringValue else { throw missing(name, "array of strings") }
            result.append(s)
        }
        return result
    }

    /// An optional member: absent or nil is nil; present with another type is malformed.
    public func optionalInt(_ name: String) throws(MalformedAnswer) -> Int? {
        guard let v = members[name], !v.isNil else { return nil }
        guard let n = v.intValue else { throw missing(name, "int") }
        return n
    }

    public func optionalTime(_ name: String) throws(MalformedAnswer) -> Date? {
        guard let v = members[name], !v.isNil else { return nil }
        return try time(name)
    }

    public func time(_ name: String) throws(MalformedAnswer) -> Date {
        guard let text = members[name]?.stringValue, let date = WireTime.parse(text) else {
            throw missing(name, "ISO 8601 time")
        }
        return date
    }

    func missing(_ name: String, _ type: String) -> MalformedAnswer {
        MalformedAnswer(method, members[name] == nil ? "no \(name)" : "\(name) is not a \(type)")
    }
}

/// Reading a method's parameters on the server.
public enum ParamReader {
    /// A fencing token: a non-negative int, or a string of digits (Python's ints are unbounded).
    public static func token(_ params: [XMLRPCValue], _ index: Int) throws -> FencingToken {
        guard index < params.count else { throw invalid("the fencing token is missing") }
        switch params[index] {
        case .int(let v) where v >= 0: return FencingToken(v)
        case .string(let s): if let v = FencingToken(s), v >= 0 { return v }
        default: break
        }
        throw invalid("parameter \(index + 1) should be a fencing token (a non-negative int)")
    }

    /// Seconds, or nil when absent or nil.
    public static func seconds(_ params: [XMLRPCValue], _ index: Int, _ name: String) throws -> Duration? {
        guard index < params.count, !params[index].isNil else { return nil }
        guard let value = params[index].doubleValue, value.isFinite, value >= 0 else {
            throw invalid("\(name) should be a number of seconds ≥ 0")
        }
        return .seconds(value)
    }

    /// The fault for an argument the server cannot use.
    public static func invalid(_ message: String) -> XMLRPCFault {
        XMLRPCFault(code: ServerFault.invalidArgument.rawValue, string: message)
    }
}

extension FencingToken {
    /// A token as it crosses the wire.
    public var wireValue: XMLRPCValue { .int(Int(self)) }
}
