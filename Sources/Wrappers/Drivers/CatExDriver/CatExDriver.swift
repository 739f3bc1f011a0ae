import FITS
public import Foundation
public import AppDriver
import RPCContract

/// Source extraction on stacks and mosaics (seed 004 §6 CatExDriver, CU14): runs Debian's
/// `source-extractor` with the archive's own configuration, parameter list, filter and
/// neural network (`Resources/source-extractor/` of this target), weighted by the product's
/// confidence map and calibrated with its zero point.
///
/// ```swift
/// let catalogue = try await CatExDriver.extractSources(
///     image: stack, hdu: 2, weight: confidenceMap, zeroPoint: 22.9, exposureTime: 40,
///     appDriver: AppDriver(config: config), workDirectory: scratch)
/// let rows = try catalogue.makeTransactionData(target: target, into: spool)
/// ```
public enum CatExDriver {
    /// The program, as Debian installs it (package `source-extractor`).
    public static let tool = "source-extractor"

    /// The CASU aperture radii in units of RCORE (casu-wfcam.md §3): r_k = m_k × RCORE.
    public static let apertureMultipliers: [Double] = [
        0.5, 1 / 2.0.squareRoot(), 1, 2.0.squareRoot(), 2, 2 * 2.0.squareRoot(), 4, 5, 6, 7, 8, 10, 12,
    ]

    /// RCORE in pixels (the WFCAM default, 1″ at 0.4″/pixel).
    public static let coreRadius = 2.5

    /// `PHOT_APERTURES`: the 13 CASU aperture diameters in pixels, 2 m_k RCORE.
    public static var apertureDiameters: [Double] {
        apertureMultipliers.map { 2 * $0 * coreRadius }
    }

    /// The aperture whose flux the aperture corrections refer to (1-based; r = 4 RCORE = 10
    /// pixels, which holds all but ≲ 0.5 % of a star's flux in WFCAM seeing).
    public static let referenceAperture = 7

    /// The columns `wsa.param` asks for, in its order; vector columns as `NAME(n)`.
    public static let outputParameters = [
        "NUMBER", "X_IMAGE", "Y_IMAGE", "ERRX2_IMAGE", "ERRY2_IMAGE", "A_IMAGE", "B_IMAGE",
        "THETA_IMAGE", "ELLIPTICITY", "FWHM_IMAGE", "ISOAREA_IMAGE", "FLUX_MAX", "FLUX_ISO",
        "FLUXERR_ISO", "FLUX_APER(13)", "FLUXERR_APER(13)", "FLUX_AUTO", "FLUXERR_AUTO",
        "KRON_RADIUS", "FLUX_PETRO", "FLUXERR_PETRO", "PETRO_RADIUS", "BACKGROUND", "THRESHOLD",
        "CLASS_STAR", "FLAGS", "FLAGS_WEIGHT",
    ]

    /// Names of the files in the configuration directory.
    public static let configurationFile = "wsa.sex", parameterFile = "wsa.param",
                      filterFile = "gauss_2.0_3x3.conv", neuralNetworkFile = "default.nnw"

    /// The directory holding the configuration files (`Resources/source-extractor`, see
    /// ``ToolResources``).
    public static func configurationDirectory() throws(WrapperError) -> URL {
        try ToolResources.directory("source-extractor")
    }

    /// Runs `source-extractor` on image HDU `hdu` of `image` (1 = primary; a Rice-compressed
    /// extension is fine) and reads back its catalogue.
    ///
    /// The image and the confidence map (HDU `hdu` of `weight`, used as `MAP_WEIGHT`) are
    /// copied as plain single-image files into a private scratch directory under
    /// `workDirectory` (source-extractor cannot read tile-compressed images). The data are
    /// counts per exposure, so magnitudes are `zeroPoint − 2.5 log10(F / exposureTime)`
    /// (`MAG_ZEROPOINT` = zeroPoint + 2.5 log10 exposureTime); fold extinction into
    /// `zeroPoint` if it applies. The effective gain given to source-extractor is the header's
    /// GAIN × NICOMB (the pixels are means of NICOMB exposures), none when GAIN is absent.
    ///
    /// On success the catalogue is left in `workDirectory` as
    /// `<image name>.<hdu>.catex.fits` (``ExtractedCatalogue/catalogueFile``) and nothing else;
    /// on any failure nothing is left.
    ///
    /// - Throws: `toolMissing` (one line naming the Debian package); `unreadable`,
    ///   `wrongContents` or `noWCS` naming the image or confidence map; `failed`, `signalled`,
    ///   `timedOut`, `cancelled` with the tool's last meaningful stderr line; `writeFailed`
    ///   when the scratch files cannot be written; `invalidArgument` for a non-positive
    ///   exposure time or a non-finite zero point.
    public static func extractSources(image: String, hdu: Int, weight: String?, zeroPoint: Double,
                                      exposureTime: Double, appDriver: AppDriver, workDirectory: URL,
                                      timeout: Duration? = nil) async throws(WrapperError)
        -> ExtractedCatalogue
    {
        guard exposureTime > 0, exposureTime.isFinite else {
            throw WrapperError(.init(.invalidArgument), file: image, "exposure time \(exposureTime) s is not positive")
        }
        guard zeroPoint.isFinite else {
            throw WrapperError(.init(.invalidArgument), file: image, "zero point \(zeroPoint) is not a number")
        }
        _ = try appDriver.locate(tool)
        let configuration = try Settings.load(from: try configurationDirectory())

        let fm = FileManager.default
        let scratch = workDirectory.appendingPathComponent(".catex-\(UUID().uuidString)", isDirectory: true)
        do {
            try fm.createDirectory(at: scratch, withIntermediateDirectories: true)
        } catch {
            throw WrapperError(.writeFailed, file: workDirectory.path, "cannot make a scratch directory: \(error)")
        }
        defer { try? fm.removeItem(at: scratch) }

        let input = try PlainCopy.image(image, hdu: hdu, to: scratch.appendingPathComponent("image.fits"))
        if let weight {
            try PlainCopy.weight(weight, hdu: hdu, matching: input, to: scratch.appendingPathComponent("weight.fits"))
        }

        let output = scratch.appendingPathComponent("catalogue.fits")
        var arguments = [
            input.copy.path,
            "-c", configuration.file(configurationFile),
            "-PARAMETERS_NAME", configuration.file(parameterFile),
            "-FILTER_NAME", configuration.file(filterFile),
            "-STARNNW_NAME", configuration.file(neuralNetworkFile),
            "-CATALOG_NAME", output.path,
            "-CATALOG_TYPE", "FITS_1.0",
            "-MAG_ZEROPOINT", format(zeroPoint + 2.5 * log10(exposureTime)),
            "-PHOT_APERTURES", apertureDiameters.map(format).joined(separator: ","),
            "-PIXEL_SCALE", format(input.pixelScale),
        ]
        if let seeing = input.seeingPixels {
            arguments += ["-SEEING_FWHM", format(seeing * input.pixelScale)]
        }
        if weight != nil {
            arguments += ["-WEIGHT_TYPE", "MAP_WEIGHT", "-WEIGHT_IMAGE", scratch.appendingPathComponent("weight.fits").path]
        } else {
            arguments += ["-WEIGHT_TYPE", "NONE"]
        }
        try await appDriver.run(tool, arguments: arguments, workingDirectory: scratch.path,
                                timeout: timeout).checkSuccess()

        var catalogue = try ExtractedCatalogue.read(output, image: image, hdu: hdu, zeroPoint: zeroPoint,
                                                    exposureTime: exposureTime, wcs: input.wcs,
                                                    width: input.width, height: input.height,
                                                    detectThreshold: configuration.detectThreshold,
                                                    effectiveGain: input.effectiveGain)
        let final = workDirectory.appendingPathComponent(finalName(image: image, hdu: hdu))
        do {
            if fm.fileExists(atPath: final.path) { try fm.removeItem(at: final) }
            try fm.moveItem(at: output, to: final)
        } catch {
            throw WrapperError(.writeFailed, file: final.path, "cannot keep the catalogue: \(error)")
        }
        catalogue.catalogueFile = final
        return catalogue
    }

    /// `w20051012_00001_sf_st.fit`, HDU 2 → `w20051012_00001_sf_st.2.catex.fits`.
    static func finalName(image: String, hdu: Int) -> String {
        var base = URL(fileURLWithPath: image).lastPathComponent
        for suffix in [".fits.fz", ".fits", ".fit", ".fz"] where base.lowercased().hasSuffix(suffix) {
            base = String(base.dropLast(suffix.count))
            break
        }
        return "\(base).\(hdu).catex.fits"
    }

    /// A number for source-extractor's command line (no exponent, enough digits).
    static func format(_ value: Double) -> String {
        String(format: "%.6f", value)
    }

    /// The configuration directory and the values of `wsa.sex` the driver needs to know.
    struct Settings {
        var directory: URL
        /// DETECT_THRESH (sigmas): THRESHOLD / DETECT_THRESH is the local background noise.
        var detectThreshold: Double

        func file(_ name: String) -> String { directory.appendingPathComponent(name).path }

        static func load(from directory: URL) throws(WrapperError) -> Settings {
            for name in [configurationFile, parameterFile, filterFile, neuralNetworkFile] {
                let path = directory.appendingPathComponent(name).path
                guard FileManager.default.isReadableFile(atPath: path) else {
                    throw WrapperError(.configuration, file: path,
                                       "source-extractor configuration file missing from the Wrappers resources")
                }
            }
            let path = directory.appendingPathComponent(configurationFile).path
            let values: [String: String]
            do {
                values = parse(try String(contentsOfFile: path, encoding: .utf8))
            } catch {
                throw WrapperError(.configuration, file: path, "cannot read: \(error)")
            }
            guard let text = values["DETECT_THRESH"], let threshold = Double(text.split(separator: ",")[0]),
                  threshold > 0 else {
                throw WrapperError(.configuration, file: path, "DETECT_THRESH is not a positive number of sigmas")
            }
            return Settings(directory: directory, detectThreshold: threshold)
        }

        /// `KEY value # comment` lines → key: value.
        static func parse(_ text: String) -> [String: String] {
            var values: [String: String] = [:]
            for raw in text.split(whereSeparator: \.isNewline) {
                let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
                let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                guard let key = parts.first else { continue }
                values[String(key)] = parts.dropFirst().joined(separator: " ")
            }
            return values
        }
    }
}
