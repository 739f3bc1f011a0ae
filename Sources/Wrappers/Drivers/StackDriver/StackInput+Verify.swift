import FITS
public import Foundation
import WrapperCore
public import AppDriver

extension StackInput {
    /// Checks, up front, what a driver meets later in this frame and names the file at fault:
    /// every pixel of each detector of the image and its confidence map decompresses and is
    /// finite somewhere, the confidence map is not zero everywhere, the detector's WCS maps its
    /// corners and centre to the sky, and its header can be copied to a plain file. A product
    /// whose making failed on bad input sets aside only the inputs that fail this on their own,
    /// so a good frame is never blamed for its partner's damage.
    /// With `pointing` (the frame's base position, degrees), each detector's centre must lie
    /// within ``maximumOffset`` of it.
    public func verify(scratch: URL, pointing: (ra: Double, dec: Double)? = nil) throws(WrapperError) {
        for (path, isConfidence) in [(image.path, false), (confidence.path, true)] {
            do {
                let file = try FITSFile.open(path)
                defer { try? file.close() }
                for detector in detectors {
                    try file.moveTo(hdu: detector.hdu)
                    let pixels = try file.readPixels(as: Float.self)
                    guard pixels.count == detector.width * detector.height else {
                        throw WrapperError(.wrongContents, file: path, "HDU \(detector.hdu): \(pixels.count) pixels, not \(detector.width)×\(detector.height)")
                    }
                    if isConfidence {
                        guard pixels.contains(where: { $0 > 0 && $0.isFinite }) else {
                            throw WrapperError(.wrongContents, file: path, "HDU \(detector.hdu): the confidence map is zero everywhere")
                        }
                        continue
                    }
                    guard pixels.contains(where: \.isFinite) else {
                        throw WrapperError(.wrongContents, file: path, "HDU \(detector.hdu): no finite pixel")
                    }
                    // Every WCS number must be a finite number: a tool that reads the copied
                    // header (SWarp) takes 'centre' or 1E+999 for something else entirely.
                    let header = try file.header()
                    for card in header.cards where Self.isWCSNumber(card.keyword) {
                        guard let value = card.value?.doubleValue, value.isFinite else {
                            throw WrapperError(.noWCS, file: path, "HDU \(detector.hdu): \(card.keyword) is \(card.value.map { "\($0)" } ?? "empty"), not a finite number")
                        }
                    }
                    let w = Double(detector.width), h = Double(detector.height)
                    let wcs = try file.wcs()
                    let sky = try wcs.pixelToSky([PixelPosition(x: 1, y: 1), PixelPosition(x: w, y: 1),
                                                  PixelPosition(x: 1, y: h), PixelPosition(x: w, y: h),
                                                  PixelPosition(x: w / 2, y: h / 2)])
                    guard sky.allSatisfy({ $0.ra.isFinite && $0.dec.isFinite && abs($0.dec) <= 90 }) else {
                        throw WrapperError(.noWCS, file: path, "HDU \(detector.hdu): the WCS does not map the detector onto the sky")
                    }
                    // The footprint must be the detector's: its diagonal as long as the pixel
                    // scale at the centre says (a wild distortion term or CD matrix makes a
                    // product of hundreds of thousands of pixels).
                    let step = try wcs.pixelToSky([PixelPosition(x: w / 2 + 1, y: h / 2)])[0]
                    let scale = Self.separation(sky[4], step) * 3600
                    let diagonal = Self.separation(sky[0], sky[3]) * 3600, expected = scale * (w * w + h * h).squareRoot()
                    if let pointing {
                        let offset = Self.separation(sky[4], SkyPosition(ra: pointing.ra, dec: pointing.dec))
                        guard offset <= Self.maximumOffset else {
                            throw WrapperError(.noWCS, file: path, String(format: "HDU %d: the WCS puts the detector %.3g° from the pointing (RABASE, DECBASE)",
                                                                          detector.hdu, offset))
                        }
                    }
                    guard scale > 0.01, scale < 60, diagonal > expected / 2, diagonal < expected * 2 else {
                        throw WrapperError(.noWCS, file: path, String(format: "HDU %d: the WCS gives %.3g\" pixels and a %.3g\" diagonal (%.3g\" expected): not this detector's footprint",
                                                                      detector.hdu, scale, diagonal, expected))
                    }
                    let copy = scratch.appendingPathComponent("verify-\(UUID().uuidString).fits")
                    defer { try? FileManager.default.removeItem(at: copy) }
                    let out = try FITSFile.create(copy.path, overwrite: true)
                    defer { try? out.close() }
                    try out.createImage(bitpix: .float32, dimensions: [1, 1])
                    try out.setKeys(StackHeaderCards.copyable(header, dropWCS: false))
                }
            } catch let error as WrapperError {
                throw error
            } catch let error as FITSError {
                throw WrapperError(.unreadable, file: path, FitsReader.problem(error), detail: error.message)
            } catch {
                throw WrapperError(.unreadable, file: path, "\(error)")
            }
        }
    }

    /// How far a detector's centre may lie from its frame's pointing (degrees): WFCAM's
    /// detectors are within about 0.5° of the base position; jitter and offsets add little.
    public static let maximumOffset = 1.5

    /// CRPIXn, CRVALn, CDELTn, CDi_j, PCi_j, PVi_j: the numbers of a celestial WCS.
    static func isWCSNumber(_ keyword: String) -> Bool {
        ["CRPIX", "CRVAL", "CDELT", "CD", "PC", "PV"].contains { prefix in
            keyword.hasPrefix(prefix) && keyword.dropFirst(prefix.count).first.map(\.isNumber) == true
        }
    }

    /// Angular separation in degrees (haversine).
    static func separation(_ a: SkyPosition, _ b: SkyPosition) -> Double {
        let rad = Double.pi / 180
        let dDec = (b.dec - a.dec) * rad, dRA = (b.ra - a.ra) * rad
        let h = sin(dDec / 2) * sin(dDec / 2) + cos(a.dec * rad) * cos(b.dec * rad) * sin(dRA / 2) * sin(dRA / 2)
        return 2 * asin(min(1, h.squareRoot())) / rad
    }
}
