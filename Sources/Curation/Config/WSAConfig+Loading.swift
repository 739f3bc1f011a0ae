public import Foundation
import TOMLKit

extension WSAConfig {
    /// The environment variable naming the config file.
    public static let fileVariable = "WSA_CONFIG"
    /// The file looked for in the current directory when nothing else names one.
    public static let defaultFileName = "wsa.toml"

    /// Which config file applies: `configFile` (from `--config`), else `$WSA_CONFIG`, else
    /// `./wsa.toml` if it exists, else nil (defaults only). Relative names are taken relative
    /// to `currentDirectory`.
    public static func locate(configFile: String?,
                              environment: [String: String] = ProcessInfo.processInfo.environment,
                              currentDirectory: String = FileManager.default.currentDirectoryPath)
        -> String?
    {
        let base = URL(fileURLWithPath: currentDirectory, isDirectory: true)
        func absolute(_ path: String) -> String {
            URL(fileURLWithPath: (path as NSString).expandingTildeInPath, relativeTo: base)
                .standardizedFileURL.path
        }
        if let configFile, !configFile.isEmpty { return absolute(configFile) }
        if let named = environment[fileVariable], !named.isEmpty { return absolute(named) }
        let local = absolute(defaultFileName)
        return FileManager.default.fileExists(atPath: local) ? local : nil
    }

    /// Loads the configuration every program uses: the file found by
    /// ``locate(configFile:environment:currentDirectory:)`` (or the defaults), then
    /// `WSA_<SECTION>_<KEY>` environment overrides. Empty environment variables are ignored.
    ///
    /// - Throws: ``CurationError`` naming the file (and line where known) and the key.
    public static func load(configFile: String? = nil,
                            environment: [String: String] = ProcessInfo.processInfo.environment,
                            currentDirectory: String = FileManager.default.currentDirectoryPath)
        throws -> WSAConfig
    {
        guard let path = locate(configFile: configFile, environment: environment,
                                currentDirectory: currentDirectory) else {
            return try parse(toml: nil, file: nil, environment: environment,
                             currentDirectory: currentDirectory)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read" : "does not exist"
            throw CurationError(.configFileUnreadable, "config file \(path) \(reason)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw CurationError(.configSyntax, "config file \(path) is not UTF-8 text")
        }
        return try parse(toml: text, file: path, environment: environment,
                         currentDirectory: currentDirectory)
    }

    /// Builds a config from TOML text (nil: no file) and environment overrides.
    ///
    /// - Parameters:
    ///   - toml: The file's text, or nil for defaults only.
    ///   - file: The file's path, used in errors and to resolve relative paths.
    ///   - environment: Variables; `WSA_<SECTION>_<KEY>` override the file.
    ///   - currentDirectory: Base for relative paths from defaults and the environment.
    public static func parse(toml: String?, file: String?,
                             environment: [String: String] = [:],
                             currentDirectory: String = FileManager.default.currentDirectoryPath)
        throws -> WSAConfig
    {
        var config = WSAConfig(currentDirectory: currentDirectory)
        config.sourceFile = file
        var mailSpoolSet = false
        let keys = Dictionary(uniqueKeysWithValues: Self.keys.map { ($0.dotted, $0) })

        if let toml {
            let path = file ?? "<config>"
            let fileDirectory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            let table: TOMLTable
            do {
                table = try TOMLTable(string: toml)
            } catch let error as TOMLParseError {
                let begin = error.source.begin
                throw CurationError(.configSyntax,
                                    "\(path):\(begin.line):\(begin.column): invalid TOML: \(LogLine.escaped(error.description))")
            }
            let locator = LineLocator(text: toml)
            for sectionName in table.keys.sorted(by: { locator.line(section: $0) ?? 0 < locator.line(section: $1) ?? 0 }) {
                guard let value = table[sectionName] else { continue }
                guard value.type == .table, let section = value.table else {
                    let origin = ConfigOrigin(place: .file(path: path, line: locator.line(section: nil, key: sectionName)),
                                              key: sectionName)
                    throw origin.error("unknown key; every key belongs in a section ([\(sections.joined(separator: "], ["))])")
                }
                guard sections.contains(sectionName) else {
                    let origin = ConfigOrigin(place: .file(path: path, line: locator.line(section: sectionName)),
                                              key: "[\(sectionName)]")
                    throw origin.error("unknown section; known sections are [\(sections.joined(separator: "], ["))]")
                }
                for keyName in section.keys {
                    guard let raw = section[keyName] else { continue }
                    let origin = ConfigOrigin(
                        place: .file(path: path, line: locator.line(section: sectionName, key: keyName)),
                        key: "\(sectionName).\(keyName)")
                    let reading = ConfigReading(value: ConfigValue(toml: raw), origin: origin,
                                                baseDirectory: fileDirectory)
                    if sectionName == "tools" {
                        try applyTool(normalizedToolName(keyName), &config, reading)
                        continue
                    }
                    guard let key = keys["\(sectionName).\(keyName)"] else {
                        let known = Self.keys.filter { $0.section == sectionName }.map(\.name)
                        throw origin.error("unknown key; [\(sectionName)] knows \(known.joined(separator: ", "))")
                    }
                    try key.apply(&config, reading)
                    if key.dotted == "mail.spool" { mailSpoolSet = true }
                }
            }
        }

        // Environment overrides, relative paths against the current directory.
        for key in Self.keys {
            guard let text = environment[key.environmentName], !text.isEmpty else { continue }
            let reading = ConfigReading(
                value: .string(text),
                origin: ConfigOrigin(place: .environment(variable: key.environmentName), key: key.dotted),
                baseDirectory: currentDirectory)
            try key.apply(&config, reading)
            if key.dotted == "mail.spool" { mailSpoolSet = true }
        }
        for (variable, text) in environment.sorted(by: { $0.key < $1.key })
            where variable.hasPrefix("WSA_TOOLS_") && !text.isEmpty
        {
            let name = normalizedToolName(String(variable.dropFirst("WSA_TOOLS_".count)))
            guard !name.isEmpty else { continue }
            let reading = ConfigReading(
                value: .string(text),
                origin: ConfigOrigin(place: .environment(variable: variable), key: "tools.\(name)"),
                baseDirectory: currentDirectory)
            try applyTool(name, &config, reading)
        }

        if !mailSpoolSet {
            config.mail.spool = URL(fileURLWithPath: config.paths.spool).appendingPathComponent("mail").path
        }
        if config.mail.retryMaxSeconds < config.mail.retrySeconds {
            config.mail.retryMaxSeconds = config.mail.retrySeconds
        }
        return config
    }

    /// `source-extractor` and `SOURCE_EXTRACTOR` both become `source_extractor`.
    static func normalizedToolName(_ name: String) -> String {
        name.lowercased().replacingOccurrences(of: "-", with: "_")
    }
}

/// Finds the line of a section header or key in TOML text, for error messages (TOMLKit
/// reports positions only for syntax errors).
struct LineLocator {
    private let lines: [Substring]

    init(text: String) {
        lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    }

    private static func headerName(_ line: Substring) -> String? {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("["), !trimmed.hasPrefix("[["),
              let close = trimmed.firstIndex(of: "]") else { return nil }
        return trimmed[trimmed.index(after: trimmed.startIndex)..<close]
            .trimmingCharacters(in: .whitespaces)
    }

    private static func keyName(_ line: Substring) -> String? {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard !trimmed.hasPrefix("#"), let eq = trimmed.firstIndex(of: "=") else { return nil }
        return trimmed[..<eq].trimmingCharacters(in: .whitespaces)
            .trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
    }

    /// 1-based line of `[section]`.
    func line(section: String) -> Int? {
        lines.firstIndex { Self.headerName($0) == section }.map { $0 + 1 }
    }

    /// 1-based line of `key = …` inside `[section]` (nil section: before any header).
    func line(section: String?, key: String) -> Int? {
        var current: String? = nil
        for (index, line) in lines.enumerated() {
            if let header = Self.headerName(line) { current = header; continue }
            if current == section, Self.keyName(line) == key { return index + 1 }
            if current == nil, let section, Self.keyName(line) == "\(section).\(key)" { return index + 1 }
        }
        return nil
    }
}
