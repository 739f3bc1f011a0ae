/// Which Debian package installs each external program the curation system runs.
public enum DebianPackages {
    /// Program name → Debian package (bookworm).
    public static let byProgram: [String: String] = [
        "SWarp": "swarp", "swarp": "swarp",
        "source-extractor": "source-extractor", "sex": "source-extractor",
        "scamp": "scamp",
        "psfex": "psfex",
        "missfits": "missfits",
        "stiff": "stiff",
        "fitsverify": "fitsverify",
        "funpack": "libcfitsio-bin", "fpack": "libcfitsio-bin", "fitscopy": "libcfitsio-bin",
        "imcopy": "libcfitsio-bin",
        "psql": "postgresql-client-15", "pg_dump": "postgresql-client-15",
        "pg_restore": "postgresql-client-15", "pg_isready": "postgresql-client-15",
        "gzip": "gzip", "gunzip": "gzip", "zcat": "gzip",
        "bzip2": "bzip2", "xz": "xz-utils", "zstd": "zstd", "tar": "tar",
        "djpeg": "libjpeg-turbo-progs", "cjpeg": "libjpeg-turbo-progs",
        "jpegtran": "libjpeg-turbo-progs",
        "python3": "python3",
        "ds9": "saods9", "xpaset": "xpa-tools", "xpaget": "xpa-tools",
        "stilts": "stilts", "topcat": "topcat",
        "rsync": "rsync", "curl": "curl", "wget": "wget", "ssh": "openssh-client",
        "sha256sum": "coreutils", "md5sum": "coreutils", "sleep": "coreutils",
        "sh": "dash", "bash": "bash",
    ]

    /// The package for `program` (a name or a path; matched on its last component, then case
    /// blind), or nil when the table does not know it.
    public static func package(for program: String) -> String? {
        let name = program.split(separator: "/").last.map(String.init) ?? program
        if let package = byProgram[name] { return package }
        let lower = name.lowercased()
        return byProgram.first(where: { $0.key.lowercased() == lower })?.value
    }
}
