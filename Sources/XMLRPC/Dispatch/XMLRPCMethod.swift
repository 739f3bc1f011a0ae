/// A method handler: receives the caller's context and the positional parameters, returns the
/// result. Throw ``XMLRPCError`` (or ``XMLRPCFault``) to answer with that fault; any other
/// error becomes an ``XMLRPCError/Code/internalError`` fault that reveals nothing about it.
public typealias XMLRPCHandler = @Sendable (XMLRPCCallContext, [XMLRPCValue]) async throws -> XMLRPCValue

/// A registered method.
public struct XMLRPCMethod: Sendable {
    /// The name callers use.
    public let name: String
    /// The text `system.methodHelp` returns.
    public let help: String
    /// The accepted signatures; empty means the handler checks its parameters itself.
    public let signatures: [XMLRPCMethodSignature]
    /// Which roles may call it.
    public let access: XMLRPCMethodAccess
    /// The implementation.
    public let handler: XMLRPCHandler

    public init(name: String, help: String, signatures: [XMLRPCMethodSignature],
                access: XMLRPCMethodAccess, handler: @escaping XMLRPCHandler) {
        self.name = name
        self.help = help
        self.signatures = signatures
        self.access = access
        self.handler = handler
    }
}
