import WrapperCore
import FITS
import Foundation

/// Keyword handling of the product headers.
enum StackHeaderCards {
    /// Keywords that describe an HDU's structure (or its compression, or checksums).
    static let structural: Set<String> = [
        "SIMPLE", "XTENSION", "BITPIX", "NAXIS", "EXTEND", "PCOUNT", "GCOUNT", "BSCALE", "BZERO",
        "BLANK", "CHECKSUM", "DATASUM", "END", "GROUPS", "TFIELDS", "THEAP", "ZIMAGE", "ZSIMPLE",
        "ZBITPIX", "ZEXTEND", "ZCMPTYPE", "ZQUANTIZ", "ZDITHER0", "ZBLOCKED", "ZPCOUNT", "ZGCOUNT",
        "ZHECKSUM", "ZDATASUM", "ZTENSION", "ZBLANK", "ZSCALE", "ZZERO", "EXTNAME", "EXTVER",
        "INHERIT", "FLXSCALE",
    ]
    static let structuralPrefixes = ["NAXIS", "ZNAXIS", "ZTILE", "ZNAME", "ZVAL", "TTYPE", "TFORM", "TUNIT"]

    static func isStructural(_ keyword: String) -> Bool {
        let k = keyword.uppercased()
        if structural.contains(k) { return true }
        return structuralPrefixes.contains { k.hasPrefix($0) && k.dropFirst($0.count).allSatisfy(\.isNumber) }
    }

    /// Celestial WCS keywords (the product gets SWarp's TAN WCS instead).
    static func isWCS(_ keyword: String) -> Bool {
        let k = keyword.uppercased()
        if ["RADESYS", "RADECSYS", "EQUINOX", "EPOCH", "LONPOLE", "LATPOLE", "WCSAXES", "WCSNAME",
            "CROTA1", "CROTA2"].contains(k) { return true }
        for prefix in ["CTYPE", "CUNIT", "CRVAL", "CRPIX", "CDELT"] where k.hasPrefix(prefix) {
            return k.dropFirst(prefix.count).allSatisfy(\.isNumber)
        }
        for prefix in ["CD", "PC", "PV", "PS"] where k.hasPrefix(prefix) {
            let rest = k.dropFirst(prefix.count)
            let parts = rest.split(separator: "_", omittingEmptySubsequences: false)
            if parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) { return true }
        }
        return false
    }

    /// cfitsio writes these two comments into every primary header it creates.
    static func isStandardComment(_ card: FITSCard) -> Bool {
        guard card.keyword.uppercased() == "COMMENT" else { return false }
        let text = card.comment.trimmingCharacters(in: .whitespaces)
        return text.hasPrefix("FITS (Flexible Image Transport System) format is")
            || text.hasPrefix("and Astrophysics', volume 376, page 359")
    }

    /// The cards of `header` worth carrying over: no structure, no checksums, optionally no WCS.
    static func copyable(_ header: FITSHeader, dropWCS: Bool, drop: Set<String> = []) -> FITSHeader {
        FITSHeader(header.cards.filter { card in
            let k = card.keyword.uppercased()
            if card.value == nil { return k != "END" && !isStandardComment(card) }
            return !isStructural(k) && !(dropWCS && isWCS(k)) && !drop.contains(k)
        })
    }

    /// NFRAMES, NICOMB, EXP_TIME, TEXPTIME, MJD-OBS, MJD-END (and DATE-END of the last frame).
    static func describe(_ header: inout FITSHeader, kind: StackProduct.Kind, frames: [StackInput],
                         endHeader: FITSHeader, detectorIndex: Int? = nil) {
        let reference = frames[0]
        let combined = frames.reduce(0) { sum, frame in
            let detector = detectorIndex.map { frame.detectors[$0] } ?? frame.detectors[0]
            return sum + frame.nexp * detector.combined
        }
        let total = frames.reduce(0.0) { $0 + $1.totalExposure }
        header.set("NFRAMES", .int(frames.count), comment: "Number of frames in this \(kind.rawValue)")
        header.set("NICOMB", .int(combined), comment: "Number of exposures in this \(kind.rawValue)")
        header.set("EXP_TIME", .double(reference.expTime), comment: "[s] Integration time per exposure")
        header.set("TEXPTIME", .double(total), comment: "[s] Total exposure time of the inputs")
        header.set("MJD-OBS", .double(frames.map(\.mjdObs).min() ?? reference.mjdObs),
                   comment: "[d] MJD at start of first frame")
        header.set("MJD-END", .double(frames.map(\.mjdEnd).max() ?? reference.mjdEnd),
                   comment: "[d] MJD at end of last frame")
        if let end = endHeader.string("DATE-END") {
            header.set("DATE-END", .string(end), comment: "Date and time (UTC) of end of last frame")
        }
        header.set("FILTER", .string(reference.filter), comment: "Combined filter name")
        if !reference.project.isEmpty {
            header.set("PROJECT", .string(reference.project), comment: "Time-allocation code")
        }
    }
}
