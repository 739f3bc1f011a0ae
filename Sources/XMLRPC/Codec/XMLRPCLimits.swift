/// Limits applied to every body the codec reads. The defaults are safe for a server facing
/// untrusted clients; the HTTP layer should enforce ``maximumBodyBytes`` itself too (answering
/// 413 before reading the rest), the codec re-checks it.
public struct XMLRPCLimits: Sendable, Hashable {
    /// Largest body accepted, in bytes (default 16 MiB). A larger body is refused with
    /// ``XMLRPCError/Code/transportError`` (-32300).
    public var maximumBodyBytes: Int
    /// Deepest XML element nesting accepted (default 64), counting every element from the
    /// root: `methodCall › params › param › value` is already 4 deep, and each level of struct
    /// or array nesting adds 3 (`struct › member › value`, `array › data › value`), so the
    /// default allows about 20 levels of nested data. Clamped to 1…1024 (the decoder recurses
    /// once per level). Deeper input is refused with ``XMLRPCError/Code/parseError``.
    public var maximumDepth: Int {
        get { _maximumDepth }
        set { _maximumDepth = min(max(newValue, 1), 1024) }
    }
    private var _maximumDepth: Int

    public init(maximumBodyBytes: Int = 16 << 20, maximumDepth: Int = 64) {
        self.maximumBodyBytes = maximumBodyBytes
        self._maximumDepth = min(max(maximumDepth, 1), 1024)
    }

    /// 16 MiB, 64 levels.
    public static let `default` = XMLRPCLimits()
}
