package import FITS
import Foundation
public import AppDriver

/// Reads what the curation needs from a delivered FITS file (seed 004 §6: open, close,
/// isImageContainer, isCatalogContainer, getProgramID, getImageArrays, getCatalogArrays,
/// makeTransactionData). HDUs are numbered from 1, the primary HDU being 1.
public final class FitsReader {
    /// The file, as given.
    public let path: String
    let file: FITSFile
    let hdus: [HDUInfo]

    /// Opens a file for reading; fails with one clear error if it is not readable FITS.
    public init(_ path: String) throws(WrapperError) {
        self.path = path
        do {
            file = try FITSFile.open(path)
            hdus = try file.hdus()
        } catch {
            throw Self.unreadable(path, error)
        }
    }

    /// Closes the file (also done when the reader goes away).
    public func close() {
        try? file.close()
    }

    /// The number of HDUs.
    public var hduCount: Int { hdus.count }

    /// True when HDU `hdu` holds pixels (a plain or tile-compressed image).
    public func isImageContainer(_ hdu: Int) -> Bool {
        hdus.indices.contains(hdu - 1) && hdus[hdu - 1].holdsImage
    }

    /// True when HDU `hdu` is a CASU source catalogue (a binary table with positions and
    /// aperture fluxes).
    public func isCatalogContainer(_ hdu: Int) -> Bool {
        guard hdus.indices.contains(hdu - 1), hdus[hdu - 1].kind == .binaryTable else { return false }
        guard (try? file.moveTo(hdu: hdu)) != nil else { return false }
        return CASUCatalogue.requiredColumns.allSatisfy { (try? file.columnIndex($0)) != nil }
    }

    /// The HDUs that hold images.
    public func getImageArrays() -> [Int] { hdus.filter(\.holdsImage).map(\.index) }

    /// The HDUs that hold CASU catalogues.
    public func getCatalogArrays() -> [Int] { hdus.map(\.index).filter(isCatalogContainer) }

    /// The programme the file belongs to, from PROJECT in the primary header
    /// (`U/UKIDSS/LAS` → `LAS`).
    public func getProgramID() throws(WrapperError) -> String {
        let project = try primaryString("PROJECT")
        let parts = project.split(separator: "/")
        guard parts.count >= 3, parts[0] == "U", parts[1] == "UKIDSS", !parts[2].isEmpty,
              parts[2].allSatisfy({ $0.isLetter || $0.isNumber }) else {
            throw WrapperError(.unknownProgramme, file: path,
                                  "PROJECT '\(project)' is not a programme identifier (U/UKIDSS/<programme>)")
        }
        return parts[2].uppercased()
    }

    /// A string keyword of the primary header that must be present.
    func primaryString(_ keyword: String) throws(WrapperError) -> String {
        do {
            try file.moveTo(hdu: 1)
            return try file.requireString(keyword)
        } catch {
            throw Self.keywordProblem(path, error)
        }
    }

    package static func unreadable(_ path: String, _ error: any Error) -> WrapperError {
        if let e = error as? FITSError {
            return WrapperError(.unreadable, file: path, problem(e), detail: e.message)
        }
        return WrapperError(.unreadable, file: path, "\(error)")
    }

    /// A person's line for a cfitsio failure: where, what we did, cfitsio's status text and
    /// its most specific message (the whole stack goes to the log, as the error's detail).
    package static func problem(_ e: FITSError) -> String {
        let place = e.hdu.map { "HDU \($0): " } ?? ""
        let specific = e.stack.first.map { " (\($0))" } ?? ""
        if e.code == .openFailed { return "\(place)does not open as a FITS file: \(e.summary)\(specific)" }
        return "\(place)\(e.operation) failed: \(e.summary)\(specific)"
    }

    package static func keywordProblem(_ path: String, _ error: any Error) -> WrapperError {
        if let e = error as? FITSError, e.code == .keywordMissing || e.code == .keywordInvalid {
            let place = e.hdu.map { "HDU \($0): " } ?? ""
            return WrapperError(.missingKeyword, file: path, place + e.summary, detail: e.message)
        }
        return unreadable(path, error)
    }
}
