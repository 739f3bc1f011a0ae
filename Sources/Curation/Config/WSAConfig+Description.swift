extension WSAConfig: CustomStringConvertible {
    /// The effective configuration as TOML, secrets masked (`password = "***"`, passwords in
    /// connection strings replaced by `***`): safe to log or print with `--show-config`.
    public var description: String {
        var out = sourceFile.map { "# from \($0)\n" } ?? "# built-in defaults\n"
        for section in Self.sections {
            out += "\n[\(section)]\n"
            if section == "tools" {
                for name in tools.paths.keys.sorted() {
                    out += "\(name) = \(TOMLLiteral.string(tools.paths[name]!))\n"
                }
                continue
            }
            for key in Self.keys where key.section == section {
                if let value = key.render(self) { out += "\(key.name) = \(value)\n" }
            }
        }
        return out
    }
}
