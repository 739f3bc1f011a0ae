import FITS
public import AppDriver

extension FitsReader {
    /// The number of rows of each CASU catalogue HDU, by HDU number.
    public func catalogueRowCounts() throws(WrapperError) -> [Int: Int] {
        var counts: [Int: Int] = [:]
        for hdu in getCatalogArrays() {
            do {
                try file.moveTo(hdu: hdu)
                counts[hdu] = try file.rowCount()
            } catch {
                throw Self.unreadable(path, error)
            }
        }
        return counts
    }
}
