/// One signature of a method: its result type and parameter types, as reported by
/// `system.methodSignature` and checked before the handler runs.
public struct XMLRPCMethodSignature: Sendable, Hashable, CustomStringConvertible {
    public var returns: XMLRPCValueType
    public var parameters: [XMLRPCValueType]

    public init(returns: XMLRPCValueType, parameters: [XMLRPCValueType]) {
        self.returns = returns
        self.parameters = parameters
    }

    /// `XMLRPCMethodSignature(.boolean, .string, .int)`: returns a boolean, takes a string
    /// and an int.
    public init(_ returns: XMLRPCValueType, _ parameters: XMLRPCValueType...) {
        self.init(returns: returns, parameters: parameters)
    }

    /// Whether `params` match: the same count, each accepted by its type.
    public func accepts(_ params: [XMLRPCValue]) -> Bool {
        params.count == parameters.count && zip(parameters, params).allSatisfy { $0.accepts($1) }
    }

    /// The introspection form: `[returnType, paramType, …]`.
    public var introspectionValue: XMLRPCValue {
        .array([.string(returns.rawValue)] + parameters.map { .string($0.rawValue) })
    }

    /// `(string, int) -> boolean`.
    public var description: String {
        "(" + parameters.map(\.rawValue).joined(separator: ", ") + ") -> " + returns.rawValue
    }
}
