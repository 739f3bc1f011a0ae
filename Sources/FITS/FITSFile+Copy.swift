import CCFITSIO

extension FITSFile {
    /// Appends a copy of `source`'s current HDU (header and data as stored: a tile-compressed
    /// image is copied without being decompressed) after the last HDU of this file, and makes it
    /// current.
    public func appendCopy(ofCurrentHDUOf source: FITSFile) throws {
        guard let input = source.fptr else {
            throw FITSError(.readFailed, file: source.path, hdu: source.currentHDU,
                            operation: "copy HDU", message: "the file is closed")
        }
        try call(.writeFailed, "copy HDU \(source.currentHDU) of \(source.path)") {
            ffcopy(input, $0, 0, &$1)
        }
        var n: Int32 = 0
        try call(.readFailed, "locate new HDU") { f, _ in ffghdn(f, &n) }
        currentHDU = Int(n)
    }
}
