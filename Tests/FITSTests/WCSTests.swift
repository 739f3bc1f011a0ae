import Foundation
import Testing
import TestSupport
@testable import FITS

/// pixel↔sky through our wcslib binding agrees with astropy's WCS over the whole detector.
@Suite struct WCSTests {
    /// A WFCAM-like detector header: 0.4″/pixel, rotated, reference point off the chip.
    static func header(projection: String, pv: [(Int, Double)]) -> FITSHeader {
        var h = FITSHeader()
        h.set("NAXIS", .int(2))
        h.set("NAXIS1", .int(2048))
        h.set("NAXIS2", .int(2048))
        h.set("CTYPE1", .string("RA---\(projection)"))
        h.set("CTYPE2", .string("DEC--\(projection)"))
        h.set("CRVAL1", .double(150.1234567))
        h.set("CRVAL2", .double(2.2345678))
        h.set("CRPIX1", .double(-390.5))
        h.set("CRPIX2", .double(2440.25))
        let scale = 0.4 / 3600, angle = 0.31 * Double.pi / 180
        h.set("CD1_1", .double(-scale * cos(angle)))
        h.set("CD1_2", .double(scale * sin(angle)))
        h.set("CD2_1", .double(scale * sin(angle)))
        h.set("CD2_2", .double(scale * cos(angle)))
        for (m, value) in pv { h.set("PV2_\(m)", .double(value)) }
        h.set("RADESYS", .string("FK5"))
        h.set("EQUINOX", .double(2000))
        return h
    }

    static let grid: [PixelPosition] = stride(from: 1.0, through: 2048, by: 127.9).flatMap { x in
        stride(from: 1.0, through: 2048, by: 127.9).map { y in PixelPosition(x: x, y: y) }
    }

    func compareWithAstropy(_ header: FITSHeader) throws {
        let wcs = try WCS(header: header)
        let sky = try wcs.pixelToSky(Self.grid)
        let dir = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let headerFile = dir.appendingPathComponent("header.txt")
        try (header.renderedRecords() + "END".padding(toLength: 80, withPad: " ", startingAt: 0))
            .write(to: headerFile, atomically: true, encoding: .ascii)
        let pixFile = dir.appendingPathComponent("pix.txt")
        try Self.grid.map { "\($0.x) \($0.y)" }.joined(separator: "\n")
            .write(to: pixFile, atomically: true, encoding: .ascii)
        let out = try runPython("""
            import sys, numpy as np, warnings
            from astropy.io import fits
            from astropy.wcs import WCS
            warnings.simplefilter("ignore")
            h = fits.Header.fromstring(open(sys.argv[1]).read())
            w = WCS(h)
            pix = np.loadtxt(sys.argv[2])
            world = w.all_pix2world(pix, 1)
            for ra, dec in world: print(repr(ra), repr(dec))
            """, [headerFile.path, pixFile.path])
        let rows = out.split(separator: "\n").map { $0.split(separator: " ").compactMap { Double($0) } }
        try #require(rows.count == sky.count)
        var worst = 0.0
        for (ours, theirs) in zip(sky, rows) {
            let dra = (ours.ra - theirs[0]) * cos(ours.dec * .pi / 180)
            let ddec = ours.dec - theirs[1]
            worst = max(worst, (dra * dra + ddec * ddec).squareRoot() * 3_600_000)
        }
        #expect(worst < 1.0, "worst difference from astropy: \(worst) mas")

        // And back: sky → pixel returns the grid.
        let back = try wcs.skyToPixel(sky)
        let worstPix = zip(back, Self.grid).map { max(abs($0.x - $1.x), abs($0.y - $1.y)) }.max() ?? 0
        #expect(worstPix < 1e-6)
    }

    /// A damaged header's bytes outside printable ASCII reach wcslib as spaces: its scanner ends
    /// the process or crashes on them (found on the mutant night), and the WCS still reads.
    @Test func bytesAHeaderMayNotHoldAreReadAsSpaces() throws {
        let clean = Self.header(projection: "ZPN", pv: [(1, 1.0), (3, 220.0)])
        var cards = Array(clean.renderedRecords().utf8)
        // A card of high and control bytes, and high bytes in the comment area of the first card.
        cards += (0..<80).map { UInt8(0x80 + ($0 % 0x7F)) }
        for i in 72..<80 { cards[i] = [0xFF, 0x00, 0x1B, 0x9C][i % 4] }
        let damaged = try WCS(cards: cards, source: "damaged")
        let expected = try WCS(header: clean).pixelToSky(Self.grid)
        let got = try damaged.pixelToSky(Self.grid)
        #expect(zip(got, expected).allSatisfy { $0.ra == $1.ra && $0.dec == $1.dec })
        // Garbage alone is no WCS, and says so.
        #expect(throws: FITSError.self) { _ = try WCS(cards: (0..<800).map { UInt8(0x80 + $0 % 0x7F) }, source: "garbage") }
    }

    @Test func tanAgreesWithAstropy() throws {
        try compareWithAstropy(Self.header(projection: "TAN", pv: []))
    }

    @Test func zpnWithDistortionAgreesWithAstropy() throws {
        let header = Self.header(projection: "ZPN", pv: [(1, 1.0), (3, 220.0)])
        try compareWithAstropy(header)
        // The distortion matters: ZPN differs from TAN by arcseconds at the chip corner.
        let zpn = try WCS(header: header), tan = try WCS(header: Self.header(projection: "TAN", pv: []))
        #expect(zpn.projection == "ZPN")
        let corner = PixelPosition(x: 2048, y: 1)
        let a = try zpn.pixelToSky(corner), b = try tan.pixelToSky(corner)
        #expect(abs(a.dec - b.dec) * 3600 > 1 || abs(a.ra - b.ra) * 3600 > 1)
    }

    @Test func headerWithoutCelestialWCSIsRefused() throws {
        var h = FITSHeader()
        h.set("NAXIS", .int(2))
        h.set("NAXIS1", .int(10))
        h.set("NAXIS2", .int(10))
        #expect(throws: FITSError.self) { try WCS(header: h, source: "nowcs.fits") }
        do {
            _ = try WCS(header: h, source: "nowcs.fits")
        } catch let e as FITSError {
            #expect(e.code == .wcsFailed)
            #expect(e.description.contains("nowcs.fits"))
        }
    }

    @Test func wcsIsReadFromACompressedImageHeader() throws {
        let dir = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("zpn.fit").path
        let f = try FITSFile.create(path)
        try f.createImage(bitpix: .int16, dimensions: [])
        try f.createImage(bitpix: .int32, dimensions: [64, 64], compression: .rice())
        for card in Self.header(projection: "ZPN", pv: [(1, 1.0), (3, 220.0)]).cards
        where !card.keyword.hasPrefix("NAXIS") {
            try f.setKey(card.keyword, card.value!, comment: card.comment)
        }
        try f.writePixels([Int32](repeating: 7, count: 64 * 64))
        try f.close()
        let r = try FITSFile.open(path)
        try r.moveTo(hdu: 2)
        let fromFile = try r.wcs().pixelToSky(PixelPosition(x: 10, y: 20))
        let direct = try WCS(header: Self.header(projection: "ZPN", pv: [(1, 1.0), (3, 220.0)]))
            .pixelToSky(PixelPosition(x: 10, y: 20))
        #expect(abs(fromFile.ra - direct.ra) < 1e-12 && abs(fromFile.dec - direct.dec) < 1e-12)
    }
}
