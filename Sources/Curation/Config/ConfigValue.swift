import Foundation
import TOMLKit

/// A raw config value before it is checked against its key: from the TOML file or from an
/// environment variable (always text).
enum ConfigValue {
    case string(String)
    case integer(Int)
    case double(Double)
    case bool(Bool)
    case array([ConfigValue])
    case table
    case other(String)

    /// Converts a TOMLKit value.
    init(toml value: any TOMLValueConvertible) {
        switch value.type {
        case .string: self = .string(value.string ?? "")
        case .int: self = .integer(value.int ?? 0)
        case .double: self = .double(value.double ?? 0)
        case .bool: self = .bool(value.bool ?? false)
        case .array:
            var items: [ConfigValue] = []
            if let array = value.array {
                for item in array { items.append(ConfigValue(toml: item)) }
            }
            self = .array(items)
        case .table: self = .table
        default: self = .other(value.type.description)
        }
    }

    /// What kind of value this is, for error messages.
    var kind: String {
        switch self {
        case .string: "a string"
        case .integer: "an integer"
        case .double: "a floating-point number"
        case .bool: "a boolean"
        case .array: "an array"
        case .table: "a table"
        case .other(let name): "a \(name)"
        }
    }
}

/// Where a value came from, for error messages that name the file, line and key, or the
/// environment variable.
struct ConfigOrigin {
    enum Place {
        case file(path: String, line: Int?)
        case environment(variable: String)
    }
    var place: Place
    /// `section.key`
    var key: String

    var text: String {
        switch place {
        case .file(let path, let line?): "\(path):\(line): \(key)"
        case .file(let path, nil): "\(path): \(key)"
        case .environment(let variable): "environment variable \(variable) (\(key))"
        }
    }

    /// Relative paths from a file are relative to the file's directory.
    var baseDirectory: String? {
        if case .file(let path, _) = place {
            return URL(fileURLWithPath: path).deletingLastPathComponent().path
        }
        return nil
    }

    /// An error for this key: "<file>:<line>: mail.smtp_port: <problem>".
    func error(_ problem: String) -> CurationError {
        CurationError(.configValue, "\(text): \(LogLine.escaped(problem))")
    }
}

/// Typed reading of one value; each accessor throws an error naming the origin.
struct ConfigReading {
    var value: ConfigValue
    var origin: ConfigOrigin
    /// Directory that relative paths are resolved against.
    var baseDirectory: String

    func string() throws -> String {
        if case .string(let s) = value { return s }
        throw origin.error("expected a string, found \(value.kind)")
    }

    func nonEmptyString() throws -> String {
        let s = try string()
        guard !s.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw origin.error("must not be empty")
        }
        return s
    }

    func integer(in range: ClosedRange<Int>) throws -> Int {
        let number: Int
        switch value {
        case .integer(let n): number = n
        case .string(let s):
            guard let n = Int(s.trimmingCharacters(in: .whitespaces)) else {
                throw origin.error("expected an integer, found \"\(s)\"")
            }
            number = n
        default: throw origin.error("expected an integer, found \(value.kind)")
        }
        guard range.contains(number) else {
            throw origin.error("\(number) is out of range \(range.lowerBound)…\(range.upperBound)")
        }
        return number
    }

    func seconds() throws -> Double {
        let number: Double
        switch value {
        case .integer(let n): number = Double(n)
        case .double(let d): number = d
        case .string(let s):
            guard let d = Double(s.trimmingCharacters(in: .whitespaces)) else {
                throw origin.error("expected a number of seconds, found \"\(s)\"")
            }
            number = d
        default: throw origin.error("expected a number of seconds, found \(value.kind)")
        }
        guard number.isFinite, number > 0 else {
            throw origin.error("must be a positive number of seconds")
        }
        return number
    }

    /// A list of strings: a TOML array, or comma-separated text from the environment.
    func stringList() throws -> [String] {
        switch value {
        case .array(let items):
            return try items.map { item in
                guard case .string(let s) = item else {
                    throw origin.error("expected an array of strings, found \(item.kind) in it")
                }
                return s.trimmingCharacters(in: .whitespaces)
            }
        case .string(let s):
            return s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
        default:
            throw origin.error("expected an array of strings, found \(value.kind)")
        }
    }

    /// A file system path, made absolute against the base directory.
    func path() throws -> String {
        let s = try nonEmptyString()
        let expanded = (s as NSString).expandingTildeInPath
        return URL(fileURLWithPath: expanded,
                   relativeTo: URL(fileURLWithPath: baseDirectory, isDirectory: true))
            .standardizedFileURL.path
    }

    /// A value among `choices` (case-insensitive).
    func choice(_ choices: [String]) throws -> String {
        let s = try string().lowercased()
        guard choices.contains(s) else {
            throw origin.error("\"\(s)\" is not one of \(choices.joined(separator: ", "))")
        }
        return s
    }
}
