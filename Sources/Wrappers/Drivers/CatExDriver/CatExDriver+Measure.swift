import FITS
import Foundation
public import AppDriver
public import WrapperCore
import TransactionFormat

/// List-driven measurement (seed 004 §6 `CatExDriver.measureSources`, CU9): forced aperture
/// photometry of our own at given sky positions on one detector of an archived frame.
///
/// Per position: the position through the frame's WCS (wcslib) to a pixel; the flux in a
/// circle of the prescribed radius (pixels cut by the circle weighted by the part of them
/// inside it, from a 5 × 5 subgrid); the sky from the 3σ-clipped median of an annulus from 4 to
/// 6 radii, its noise from the annulus' MAD (scaled up where the noise of neighbouring pixels is
/// correlated, as in resampled stacks: from the rms of 2 × 2 block sums); the error
/// σ² = A·σ_sky² + A²·σ_sky²·π/(2 N_sky) + F/gain (A the aperture's area, N_sky the annulus
/// pixels: the second term is the error of the median sky). Magnitudes are calibrated on the
/// frame's own catalogue: the median of (aperMag3 − instrumental magnitude) over its well
/// measured stars, measured the same way — so a forced magnitude is on the system of the
/// frame's detections, aperture correction included. Without three such stars, MAGZPT,
/// EXP_TIME, EXTINCT and APCOR3 of the headers give it, as CASU's catalogue does.
extension CatExDriver {
    /// Measures `frame.targets` on `frame`; rows numbered from 1 in the order of the targets.
    public static func measureSources(_ frame: RemeasurementFrame) throws(WrapperError) -> [ForcedMeasurement] {
        guard !frame.targets.isEmpty else { return [] }
        let image: ForcedImage
        do {
            image = try FITSThreads.serialised { try ForcedImage(path: frame.fileName, hdu: Int(frame.extNum)) }
        } catch let error as WrapperError {
            throw error
        } catch {
            throw WrapperError(.unreadable, file: frame.fileName, "HDU \(frame.extNum): \(error)")
        }
        let radius = frame.aperture / max(frame.pixelSize, 1e-3)
        let pixels: [PixelPosition]
        let stars: [PixelPosition]
        do {
            pixels = try image.wcs.skyToPixel(frame.targets.map { SkyPosition(ra: $0.ra, dec: $0.dec) })
            stars = try image.wcs.skyToPixel(frame.calibrators.map { SkyPosition(ra: $0.ra, dec: $0.dec) })
        } catch {
            throw WrapperError(.noWCS, file: frame.fileName, "HDU \(frame.extNum): positions through the WCS failed: \(error)")
        }
        // The frame's photometric zero point for this aperture, from its own catalogue.
        var offsets: [Double] = []
        for (star, position) in zip(frame.calibrators, stars) {
            let m = image.aperture(at: position, radius: radius)
            if m.errBits == 0, m.flux > 0 { offsets.append(star.aperMag3 + 2.5 * log10(m.flux)) }
        }
        let zeroPoint = offsets.count >= 3 ? ForcedImage.median(offsets) : image.headerZeroPoint
        return zip(frame.targets, pixels).enumerated().map { index, pair in
            let (target, position) = pair
            let m = image.aperture(at: position, radius: radius)
            var bits = m.errBits
            var mag = WSANull.real, magErr = WSANull.real
            if bits & 1 == 0 {
                if m.flux > 0, let zeroPoint {
                    mag = Float(zeroPoint - 2.5 * log10(m.flux))
                    magErr = Float(1.0857 * m.fluxErr / m.flux)
                } else if m.flux <= 0 {
                    bits |= 4
                }
            }
            let measured = bits & 1 == 0
            return ForcedMeasurement(
                multiframeID: frame.multiframeID, extNum: frame.extNum, seqNum: Int32(index + 1), sourceID: target.sourceID,
                frameSetID: frame.frameSetID, filterID: frame.filterID,
                x: Float(position.x), y: Float(position.y), ra: target.ra, dec: target.dec,
                aperFlux3: measured ? Float(m.flux) : WSANull.real, aperFlux3Err: measured ? Float(m.fluxErr) : WSANull.real,
                aperMag3: mag, aperMag3Err: magErr,
                sky: measured ? Float(m.sky) : WSANull.real, skyVar: measured ? Float(m.skyRMS) : WSANull.real,
                errBits: bits)
        }
    }
}

/// One detector's pixels and what the photometry needs of its headers.
struct ForcedImage {
    let width: Int
    let height: Int
    let pixels: [Float]
    let wcs: WCS
    let gain: Double
    /// MAGZPT + 2.5 log10(EXP_TIME) − EXTINCT (X − 1) − APCOR3, or nil without MAGZPT and EXP_TIME.
    let headerZeroPoint: Double?

    init(path: String, hdu: Int) throws {
        let file = try FITSFile.open(path)
        defer { try? file.close() }
        try file.moveTo(hdu: 1)
        let exposure = try file.readKey("EXP_TIME")?.doubleValue
        let amStart = try file.readKey("AMSTART")?.doubleValue ?? 1
        let amEnd = try file.readKey("AMEND")?.doubleValue ?? amStart
        try file.moveTo(hdu: hdu)
        let shape = try file.imageShape()
        guard shape.dimensions.count == 2, shape.dimensions[0] > 0, shape.dimensions[1] > 0 else {
            throw WrapperError(.wrongContents, file: path, "HDU \(hdu) is not a 2-d image (\(shape.dimensions))")
        }
        width = shape.dimensions[0]
        height = shape.dimensions[1]
        pixels = try file.readPixels(as: Float.self)
        wcs = try file.wcs()
        gain = try file.readKey("GAIN")?.doubleValue ?? 0
        if let zp = try file.readKey("MAGZPT")?.doubleValue, let t = try file.readKey("EXP_TIME")?.doubleValue ?? exposure, t > 0 {
            let extinction = try file.readKey("EXTINCT")?.doubleValue ?? 0
            let apcor = try file.readKey("APCOR3")?.doubleValue ?? 0
            headerZeroPoint = zp + 2.5 * log10(t) - extinction * ((amStart + amEnd) / 2 - 1) - apcor
        } else {
            headerZeroPoint = nil
        }
    }

    /// Aperture photometry at a FITS pixel position (1-based).
    struct Measurement {
        var flux = 0.0, fluxErr = 0.0, sky = 0.0, skyRMS = 0.0
        var errBits: Int32 = 0
    }

    func aperture(at p: PixelPosition, radius r: Double) -> Measurement {
        var m = Measurement()
        let outer = 6 * r, inner = 4 * r
        // Array indices: pixel (i, j) 0-based has its centre at FITS (i + 1, j + 1).
        let cx = p.x - 1, cy = p.y - 1
        guard cx.isFinite, cy.isFinite, cx - r >= -0.5, cy - r >= -0.5,
              cx + r <= Double(width) - 0.5, cy + r <= Double(height) - 0.5 else {
            m.errBits = 1
            return m
        }
        // Sky: the annulus, clipped.
        var sky: [Double] = []
        let i0 = max(0, Int((cx - outer).rounded(.down))), i1 = min(width - 1, Int((cx + outer).rounded(.up)))
        let j0 = max(0, Int((cy - outer).rounded(.down))), j1 = min(height - 1, Int((cy + outer).rounded(.up)))
        for j in j0...j1 {
            for i in i0...i1 {
                let d = hypot(Double(i) - cx, Double(j) - cy)
                guard d >= inner, d <= outer else { continue }
                let v = pixels[j * width + i]
                if v.isFinite { sky.append(Double(v)) }
            }
        }
        guard sky.count >= 10 else {
            m.errBits = 1
            return m
        }
        var level = Self.median(sky)
        var rms = 1.4826 * Self.median(sky.map { abs($0 - level) })
        for _ in 0..<3 where rms > 0 {
            let kept = sky.filter { abs($0 - level) <= 3 * rms }
            guard kept.count >= 10 else { break }
            sky = kept
            level = Self.median(sky)
            rms = 1.4826 * Self.median(sky.map { abs($0 - level) })
        }
        // Flux: pixels weighted by the part of them inside the circle.
        var flux = 0.0, area = 0.0
        let a0 = Int((cx - r - 1).rounded(.down)), a1 = Int((cx + r + 1).rounded(.up))
        let b0 = Int((cy - r - 1).rounded(.down)), b1 = Int((cy + r + 1).rounded(.up))
        for j in max(0, b0)...min(height - 1, b1) {
            for i in max(0, a0)...min(width - 1, a1) {
                let w = Self.coverage(Double(i) - cx, Double(j) - cy, r)
                guard w > 0 else { continue }
                let v = pixels[j * width + i]
                guard v.isFinite else {
                    m.errBits |= 2
                    continue
                }
                flux += w * (Double(v) - level)
                area += w
            }
        }
        m.flux = flux
        m.sky = level
        m.skyRMS = rms
        // Resampled images (stacks) have correlated noise: the rms of 2 × 2 block sums in the
        // annulus, against the 2σ of independent pixels, scales the aperture's sky noise.
        var blocks: [Double] = []
        for j in stride(from: j0, to: j1, by: 2) {
            for i in stride(from: i0, to: i1, by: 2) {
                var sum = 0.0, ok = true
                for (di, dj) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                    let d = hypot(Double(i + di) - cx, Double(j + dj) - cy)
                    let v = pixels[(j + dj) * width + i + di]
                    guard d >= inner, d <= outer, v.isFinite, abs(Double(v) - level) <= 5 * max(rms, 1e-30) else {
                        ok = false
                        break
                    }
                    sum += Double(v) - level
                }
                if ok { blocks.append(sum) }
            }
        }
        var correlation = 1.0
        if blocks.count >= 20, rms > 0 {
            let centre = Self.median(blocks)
            correlation = max(1, 1.4826 * Self.median(blocks.map { abs($0 - centre) }) / (2 * rms))
        }
        let noise = rms * correlation
        let variance = area * noise * noise + area * area * noise * noise * Double.pi / (2 * Double(sky.count))
            + (gain > 0 ? max(flux, 0) / gain : 0)
        m.fluxErr = variance.squareRoot()
        return m
    }

    static func median(_ values: [Double]) -> Double {
        let v = values.sorted()
        return v.count % 2 == 1 ? v[v.count / 2] : (v[v.count / 2 - 1] + v[v.count / 2]) / 2
    }

    /// The part of the pixel centred (dx, dy) from the aperture centre that lies within radius r.
    static func coverage(_ dx: Double, _ dy: Double, _ r: Double) -> Double {
        let d = hypot(dx, dy)
        if d <= r - 0.7072 { return 1 }
        if d >= r + 0.7072 { return 0 }
        var inside = 0
        for a in 0..<5 {
            for b in 0..<5 {
                let x = dx - 0.4 + 0.2 * Double(a), y = dy - 0.4 + 0.2 * Double(b)
                if x * x + y * y <= r * r { inside += 1 }
            }
        }
        return Double(inside) / 25
    }
}
