/// The XML-RPC dispatcher, without sockets: methods registered by name, and
/// ``handle(body:context:)`` turning a request body into a response body.
///
/// It is a value: build it at start-up, then share it (it is `Sendable`) with the HTTP layer,
/// which authenticates the caller, checks the body size, and passes the body and a
/// ``XMLRPCCallContext`` here. It always answers with a valid `<methodResponse>`; failures are
/// faults:
///
/// | failure                                   | faultCode |
/// |-------------------------------------------|-----------|
/// | malformed or refused XML                  | -32700    |
/// | unsupported encoding / invalid character  | -32701 / -32702 |
/// | well-formed but not XML-RPC               | -32600    |
/// | unknown method                            | -32601    |
/// | parameters not matching any signature     | -32602    |
/// | the caller's role may not call the method | -32001    |
/// | a handler's ``XMLRPCError``               | its code  |
/// | any other error thrown by a handler       | -32603, message without details |
///
/// Built in: `system.listMethods` (the methods the caller's role may call, sorted),
/// `system.methodHelp`, `system.methodSignature` (an array of `[return, params…]` arrays, or
/// the string `undef` when a method declares none), and `system.multicall` (an array of
/// `{methodName, params}` structs, run in order; each result is wrapped in a one-element
/// array, each failure is a `{faultCode, faultString}` struct; nesting is refused).
///
/// ```swift
/// var registry = XMLRPCMethodRegistry()
/// registry.register("wsa.echo", help: "Returns its argument.",
///                   signature: .init(.string, .string), access: .anyRole) { _, params in
///     params[0]
/// }
/// let reply = await registry.handle(body: body, context: .init(caller: "cu13", role: "curator"))
/// ```
public struct XMLRPCMethodRegistry: Sendable {
    /// Limits applied to request bodies.
    public var limits: XMLRPCLimits
    /// Called when a handler throws something other than ``XMLRPCError`` or ``XMLRPCFault``,
    /// with the method name, the error and the context, so the server can log what the fault
    /// hides from the caller.
    public var unexpectedErrorHandler: (@Sendable (String, any Error, XMLRPCCallContext) -> Void)?

    private var methods: [String: XMLRPCMethod] = [:]

    public init(limits: XMLRPCLimits = .default) {
        self.limits = limits
    }

    /// Registers a method. Registering a name twice, or one of the built-in `system.` names,
    /// is a programming error (it traps).
    public mutating func register(_ name: String, help: String, signatures: [XMLRPCMethodSignature],
                                  access: XMLRPCMethodAccess, handler: @escaping XMLRPCHandler) {
        precondition(!name.isEmpty, "an XML-RPC method needs a name")
        precondition(Self.builtins[name] == nil, "\(name) is built in")
        precondition(methods[name] == nil, "XML-RPC method \(name) registered twice")
        methods[name] = XMLRPCMethod(name: name, help: help, signatures: signatures,
                                     access: access, handler: handler)
    }

    /// Registers a method with one signature.
    public mutating func register(_ name: String, help: String, signature: XMLRPCMethodSignature,
                                  access: XMLRPCMethodAccess, handler: @escaping XMLRPCHandler) {
        register(name, help: help, signatures: [signature], access: access, handler: handler)
    }

    /// A registered method (built-ins included), by name.
    public func method(named name: String) -> XMLRPCMethod? {
        methods[name] ?? Self.builtins[name]
    }

    /// Every method name, built-ins included, sorted.
    public var methodNames: [String] {
        (Array(methods.keys) + Self.builtins.keys).sorted()
    }

    /// The names a caller with `role` may call, built-ins included, sorted.
    public func methodNames(callableBy role: String) -> [String] {
        (methods.values.filter { $0.access.permits(role) }.map(\.name) + Self.builtins.keys).sorted()
    }

    // MARK: Dispatch

    /// Decodes a request body, runs the call, and encodes the response (a fault on any
    /// failure). Never throws, never traps on bad input.
    public func handle(body: some Collection<UInt8>, context: XMLRPCCallContext) async -> [UInt8] {
        let request: XMLRPCRequest
        do throws(XMLRPCError) {
            request = try XMLRPCRequest(decoding: body, limits: limits)
        } catch {
            return XMLRPCResponse.encode(error.fault)
        }
        return await respond(to: request, context: context).encodedOrFault()
    }

    /// Runs a decoded call and returns its response; a result that could not be encoded
    /// becomes an ``XMLRPCError/Code/invalidCharacter`` fault.
    public func respond(to request: XMLRPCRequest, context: XMLRPCCallContext) async -> XMLRPCResponse {
        do throws(XMLRPCError) {
            let value = try await call(request.methodName, request.params, context: context)
            try value.checkEncodable()
            return .success(value)
        } catch {
            return .fault(error.fault)
        }
    }

    /// Runs one call: looks the method up, checks the caller's role and the parameters, runs
    /// the handler, and maps what it throws onto an ``XMLRPCError``.
    public func call(_ name: String, _ params: [XMLRPCValue],
                     context: XMLRPCCallContext) async throws(XMLRPCError) -> XMLRPCValue {
        try await call(name, params, context: context, nested: false)
    }

    private func call(_ name: String, _ params: [XMLRPCValue], context: XMLRPCCallContext,
                      nested: Bool) async throws(XMLRPCError) -> XMLRPCValue {
        guard let method = method(named: name) else {
            throw XMLRPCError(.methodNotFound, "no method named '\(name.excerpt)'; system.listMethods lists them")
        }
        guard method.access.permits(context.role) else {
            throw XMLRPCError(.notAuthorized, "role '\(context.role.excerpt)' may not call '\(name)'")
        }
        if !method.signatures.isEmpty, !method.signatures.contains(where: { $0.accepts(params) }) {
            let expected = method.signatures.map { "(" + $0.parameters.map(\.rawValue).joined(separator: ", ") + ")" }
                .joined(separator: " or ")
            let got = "(" + params.map(\.type.rawValue).joined(separator: ", ") + ")"
            throw XMLRPCError(.invalidParameters, "wrong parameters for '\(name)': expected \(expected), got \(got)")
        }
        var context = context
        context.methodName = name
        switch name {
        case "system.listMethods":
            return .array(methodNames(callableBy: context.role).map { .string($0) })
        case "system.methodHelp":
            return .string(try visibleMethod(params[0], context).help)
        case "system.methodSignature":
            let m = try visibleMethod(params[0], context)
            return m.signatures.isEmpty ? "undef" : .array(m.signatures.map(\.introspectionValue))
        case "system.multicall":
            if nested { throw XMLRPCError(.invalidXMLRPC, "system.multicall may not be nested") }
            return try await multicall(params[0].arrayValue!, context: context)
        default:
            break
        }
        do {
            return try await method.handler(context, params)
        } catch let error as XMLRPCError {
            throw error
        } catch let fault as XMLRPCFault {
            throw XMLRPCError(fault)
        } catch {
            unexpectedErrorHandler?(name, error, context)
            throw XMLRPCError(.internalError, "internal error in '\(name)'; the server log has the details",
                              detail: String(reflecting: error))
        }
    }

    /// The method a `system.methodHelp`/`methodSignature` argument names, if the caller may see it.
    private func visibleMethod(_ nameValue: XMLRPCValue, _ context: XMLRPCCallContext) throws(XMLRPCError) -> XMLRPCMethod {
        let name = nameValue.stringValue ?? ""
        guard let m = method(named: name) else {
            throw XMLRPCError(.methodNotFound, "no method named '\(name.excerpt)'")
        }
        guard m.access.permits(context.role) else {
            throw XMLRPCError(.notAuthorized, "role '\(context.role.excerpt)' may not call '\(name)'")
        }
        return m
    }

    private func multicall(_ calls: [XMLRPCValue], context: XMLRPCCallContext) async throws(XMLRPCError) -> XMLRPCValue {
        var results: [XMLRPCValue] = []
        results.reserveCapacity(calls.count)
        for entry in calls {
            do throws(XMLRPCError) {
                guard case .struct(let m) = entry, case .string(let name)? = m["methodName"] else {
                    throw XMLRPCError(.invalidParameters,
                                      "each system.multicall entry must be a struct with a string methodName and an array params")
                }
                let params: [XMLRPCValue]
                switch m["params"] {
                case nil: params = []
                case .array(let a)?: params = a
                default:
                    throw XMLRPCError(.invalidParameters, "params of a system.multicall entry must be an array")
                }
                let value = try await call(name, params, context: context, nested: true)
                try value.checkEncodable()
                results.append(.array([value]))
            } catch {
                results.append(error.fault.value)
            }
        }
        return .array(results)
    }

    // MARK: Built-ins

    private static let builtins: [String: XMLRPCMethod] = {
        let unused: XMLRPCHandler = { _, _ in .nil }  // dispatched in `call`, never run
        let list: [XMLRPCMethod] = [
            XMLRPCMethod(name: "system.listMethods",
                         help: "Returns the names of the methods you may call, sorted.",
                         signatures: [.init(.array)], access: .anyRole, handler: unused),
            XMLRPCMethod(name: "system.methodHelp",
                         help: "Returns the help text of a method.",
                         signatures: [.init(.string, .string)], access: .anyRole, handler: unused),
            XMLRPCMethod(name: "system.methodSignature",
                         help: "Returns the signatures of a method: an array of [returnType, paramType, ...] arrays, or 'undef'.",
                         signatures: [.init(.array, .string)], access: .anyRole, handler: unused),
            XMLRPCMethod(name: "system.multicall",
                         help: "Runs several calls in order: takes an array of {methodName, params} structs, returns an array whose elements are one-element arrays holding results or {faultCode, faultString} structs.",
                         signatures: [.init(.array, .array)], access: .anyRole, handler: unused),
        ]
        return Dictionary(uniqueKeysWithValues: list.map { ($0.name, $0) })
    }()
}
