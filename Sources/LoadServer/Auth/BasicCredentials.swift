import Foundation

/// The user name and password of an HTTP Basic `Authorization` header (RFC 7617).
///
/// ```swift
/// BasicCredentials(authorizationHeader: "Basic YWxpY2U6czNjcmV0")  // alice / s3cret
/// ```
public struct BasicCredentials: Sendable, Equatable {
    /// The user name (the part before the first colon).
    public var user: String
    /// The password (everything after the first colon; it may contain colons).
    public var password: String

    /// Credentials given directly.
    public init(user: String, password: String) {
        self.user = user
        self.password = password
    }

    /// The longest header value accepted, in bytes; longer ones are refused unread.
    public static let maximumHeaderLength = 4096

    /// Parses `Basic <base64 of user:password>`. The scheme is case-insensitive; the
    /// credentials must be standard base64 of UTF-8 text with a colon and no control
    /// characters. Nil for anything else (another scheme, bad base64, bad UTF-8, no colon, an
    /// empty user name, an over-long header).
    public init?(authorizationHeader: String) {
        guard authorizationHeader.utf8.count <= Self.maximumHeaderLength else { return nil }
        let header = authorizationHeader.trimmingCharacters(in: .whitespaces)
        guard let space = header.firstIndex(of: " ") else { return nil }
        guard header[..<space].lowercased() == "basic" else { return nil }
        let token = header[space...].drop(while: { $0 == " " })
        guard !token.isEmpty, let data = Data(base64Encoded: String(token)) else { return nil }
        let bytes = [UInt8](data)
        // Valid UTF-8 only: decoding repairs bad sequences, so a repaired string differs.
        let text = String(decoding: bytes, as: UTF8.self)
        guard Array(text.utf8) == bytes else { return nil }
        guard !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else { return nil }
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let user = String(text[..<colon])
        guard !user.isEmpty else { return nil }
        self.init(user: user, password: String(text[text.index(after: colon)...]))
    }
}
