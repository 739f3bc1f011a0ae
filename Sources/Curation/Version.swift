/// The version of the whole system (semantic versioning; see CHANGELOG.md).
public enum WSAVersion {
    public static let current = "0.8.0"
}
