/// Who is calling, as established by the transport (HTTP authentication), handed to every
/// handler so it can authorise and record the caller.
public struct XMLRPCCallContext: Sendable, Hashable {
    /// The authenticated identity (e.g. the user or service account name).
    public var caller: String
    /// The caller's role; registry entries say which roles may call them.
    public var role: String
    /// Extra transport facts a handler may want (remote address, request id …).
    public var attributes: [String: String]
    /// The method being called; set by the registry before it runs a handler (inside
    /// `system.multicall`, the inner method's name).
    public var methodName: String

    public init(caller: String, role: String, attributes: [String: String] = [:]) {
        self.caller = caller
        self.role = role
        self.attributes = attributes
        self.methodName = ""
    }
}
