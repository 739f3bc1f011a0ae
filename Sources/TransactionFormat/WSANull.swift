/// The WSA's null defaults (formats/casu-wfcam.md §4): what a column holds when the value is
/// unknown, so that every column can be NOT NULL and indexed, as in the WSA schema.
public enum WSANull {
    /// Integers of every width (`-99999999`); a smallint column uses ``smallInt``.
    public static let int: Int32 = -99_999_999
    public static let bigInt = Int64(int)
    public static let smallInt: Int16 = -9999
    /// Reals (`-0.9999995e9`).
    public static let real: Float = -0.9999995e9
    public static let double: Double = -0.9999995e9
    /// Text.
    public static let text = "NONE"
}
