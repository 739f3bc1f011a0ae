/// Which roles may call a method. There is no default: every registration says it.
public struct XMLRPCMethodAccess: Sendable, Hashable, CustomStringConvertible {
    /// nil means any role.
    private let roles: Set<String>?

    /// Any authenticated caller, whatever its role.
    public static let anyRole = XMLRPCMethodAccess(roles: nil)

    /// Only callers whose role is one of `roles`.
    public static func roles(_ roles: String...) -> XMLRPCMethodAccess {
        XMLRPCMethodAccess(roles: Set(roles))
    }

    /// Only callers whose role is one of `roles`.
    public static func roles(_ roles: some Sequence<String>) -> XMLRPCMethodAccess {
        XMLRPCMethodAccess(roles: Set(roles))
    }

    /// Whether a caller with `role` may call.
    public func permits(_ role: String) -> Bool {
        roles?.contains(role) ?? true
    }

    public var description: String {
        roles.map { "roles " + $0.sorted().joined(separator: ", ") } ?? "any role"
    }
}
