import FITS
import Foundation

/// The headers of a difference image and of its confidence map.
enum DiffHeaderCards {
    /// Keywords of the H2 extension that are measured again on the difference (or stale).
    static let remeasured: Set<String> = ["SKYLEVEL", "SKYNOISE", "ELLIPTIC", "SEEING", "CIR_CPM", "FLXSCALE",
                                          "KSCALE", "PSFSIGMA", "PSFIMAGE", "SEEING_A", "SEEING_B"]

    /// The H2 frame's primary header (FILTER stays 'H2'), with what went in.
    static func primary(h2Primary: FITSHeader, h2: StackInput, k: StackInput,
                        extensions: [DiffProduct.Extension]) -> FITSHeader {
        var header = StackHeaderCards.copyable(h2Primary, dropWCS: false)
        header.set("DIFFIMG", .string("H2-K"), comment: "Difference image: IMAGE_A - KSCALE * IMAGE_B")
        header.set("IMAGE_A", .string(h2.image.lastPathComponent), comment: "Image the continuum is taken from (H2)")
        header.set("IMAGE_B", .string(k.image.lastPathComponent), comment: "Continuum image subtracted (K)")
        header.set("CONF_A", .string(h2.confidence.lastPathComponent), comment: "Confidence map of IMAGE_A")
        header.set("CONF_B", .string(k.confidence.lastPathComponent), comment: "Confidence map of IMAGE_B")
        let count = Double(max(1, extensions.count))
        header.set("KSCALE", .double(rounded(extensions.reduce(0) { $0 + $1.kScale } / count, 1e8)),
                   comment: "Mean scale of IMAGE_B (per detector: extensions)")
        header.set("PSFSIGMA", .double(rounded(extensions.reduce(0) { $0 + $1.psfSigma } / count, 1e4)),
                   comment: "[pixels] Mean sigma of the PSF-matching Gaussian")
        let smoothed = Set(extensions.map(\.smoothed.rawValue))
        header.set("PSFIMAGE", .string(smoothed.count == 1 ? smoothed.first! : "MIXED"),
                   comment: "Image convolved to match the PSFs (H2, K, NONE)")
        header.set("MAGZPT", .double(rounded(extensions.reduce(0) { $0 + $1.magZpt } / count, 1e4)),
                   comment: "[mag] Mean H2 photometric ZP for default extinction")
        header.set("PROV0001", .string(h2.image.lastPathComponent), comment: "Input frame 1 (H2)")
        header.set("PROV0002", .string(k.image.lastPathComponent), comment: "Input frame 2 (K)")
        return header
    }

    /// The H2 extension's header (its WCS, CAMNUM …) with the difference's measurements.
    static func image(h2Header: FITSHeader, ext: DiffProduct.Extension, confidenceName: String,
                      k: StackInput) -> FITSHeader {
        var header = StackHeaderCards.copyable(h2Header, dropWCS: false, drop: remeasured)
        header.set("MAGZPT", .double(ext.magZpt), comment: "[mag] Photometric ZP for default extinction")
        header.set("SKYLEVEL", .double(rounded(ext.skyLevel, 1e4)), comment: "[ADU] Median of the difference")
        header.set("SKYNOISE", .double(rounded(ext.skyNoise, 1e4)), comment: "[ADU] Pixel noise of the difference")
        header.set("SEEING", .double(rounded(max(ext.seeingH2, ext.seeingK), 1e3)),
                   comment: "[pixels] FWHM after PSF matching")
        header.set("SEEING_A", .double(rounded(ext.seeingH2, 1e3)), comment: "[pixels] FWHM of IMAGE_A")
        header.set("SEEING_B", .double(rounded(ext.seeingK, 1e3)), comment: "[pixels] FWHM of IMAGE_B on this grid")
        header.set("KSCALE", .double(rounded(ext.kScale, 1e8)), comment: "Scale of IMAGE_B: (tA/tB) 10^(0.4 (ZA - ZB))")
        header.set("PSFSIGMA", .double(rounded(ext.psfSigma, 1e4)), comment: "[pixels] Sigma of the PSF-matching Gaussian")
        header.set("PSFIMAGE", .string(ext.smoothed.rawValue), comment: "Image convolved to match the PSFs")
        header.set("CIR_CPM", .string("\(confidenceName)[\(ext.hdu - 1)]"), comment: "Confidence map")
        header.append(FITSCard("HISTORY", nil,
                               comment: "H2 - KSCALE * K; K resampled by SWarp (diff.swarp) onto this grid"))
        header.append(FITSCard("HISTORY", nil, comment: "IMAGE_B = \(k.image.lastPathComponent)"))
        return header
    }

    /// The H2 confidence extension's header, with the H2 image's WCS and CAMNUM.
    static func confidence(h2ConfidenceHeader: FITSHeader, h2Header: FITSHeader) -> FITSHeader {
        var header = StackHeaderCards.copyable(h2ConfidenceHeader, dropWCS: true, drop: remeasured)
        for keyword in ["CAMNUM", "DETECTID"] where header[keyword] == nil {
            if let card = h2Header.cards.first(where: { $0.keyword == keyword && $0.value != nil }) {
                header.append(card)
            }
        }
        header.cards += h2Header.cards.filter { $0.value != nil && StackHeaderCards.isWCS($0.keyword) }
        header.append(FITSCard("HISTORY", nil, comment: "Confidence of H2 - KSCALE * K (inverse variance, median 100)"))
        return header
    }

    static func rounded(_ value: Double, _ scale: Double) -> Double { (value * scale).rounded() / scale }
}
