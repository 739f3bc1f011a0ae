import FITS
import Foundation
import Testing
@testable import SimulatorKit

/// Pure pieces of the simulator: dates, geometry, plan, population, PSF, random streams.
@Suite struct SimulatorUnitTests {
    @Test func nightsAndDates() throws {
        let n = try #require(Night("20051012"))
        #expect(n.mjd == 53655)
        #expect(n.directoryName == "20051012_v1")
        #expect(Night(mjd: 53655) == n)
        #expect(n.adding(days: 366).description == "20061013")
        #expect(Night("20050230") == nil)
        #expect(Night("2005101") == nil)
        #expect(Night.isoTime(mjd: 53655.25) == "2005-10-12T06:00:00.000")
        #expect(abs(Night.epoch(mjd: 51544.5) - 2000.0) < 1e-12)
    }

    @Test func randomStreamsAreDeterministicAndIndependent() {
        var a = Xoshiro256(seed: 42, "noise", "x", 1)
        var b = Xoshiro256(seed: 42, "noise", "x", 1)
        var c = Xoshiro256(seed: 42, "noise", "x", 2)
        let sa = (0..<100).map { _ in a.next() }
        #expect(sa == (0..<100).map { _ in b.next() })
        #expect(sa != (0..<100).map { _ in c.next() })
        var g = Xoshiro256(seed: 7)
        let values = (0..<20000).map { _ in g.gaussian() }
        let mean = values.reduce(0, +) / Double(values.count)
        let sd = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)).squareRoot()
        #expect(abs(mean) < 0.03)
        #expect(abs(sd - 1) < 0.03)
    }

    /// Each detector's reference pixel (the optical axis) lies off its own chip, the detectors are
    /// rotated by 90° steps, the scale is 0.4″/pixel, and the four chips sit around the axis.
    @Test func focalPlaneGeometry() throws {
        let plane = FocalPlane(size: 2048)
        let axis = SkyPosition(ra: 180, dec: 0.6)
        var centres: [SkyPosition] = []
        for cam in 1...4 {
            let cards = FITSHeader(plane.wcsCards(camnum: cam, axis: axis))
            let crpix1 = try #require(cards.double("CRPIX1")), crpix2 = try #require(cards.double("CRPIX2"))
            #expect(crpix1 < 0.5 || crpix1 > 2048.5 || crpix2 < 0.5 || crpix2 > 2048.5)
            #expect(cards.double("PV2_3") == 220)
            #expect(cards.string("CTYPE1") == "RA---ZPN")
            let cd11 = cards.double("CD1_1")!, cd12 = cards.double("CD1_2")!
            let cd21 = cards.double("CD2_1")!, cd22 = cards.double("CD2_2")!
            let scale = (abs(cd11 * cd22 - cd12 * cd21)).squareRoot() * 3600
            #expect(abs(scale - 0.4) < 1e-6)
            // Angle of the detector x axis on the sky, in 90° steps (± the small error).
            let angle = atan2(cd21, -cd11) * 180 / .pi
            let expected = Double(cam - 1) * 90 + FocalPlane.rotationErrors[cam - 1]
            var d = (angle - expected).truncatingRemainder(dividingBy: 360)
            if d > 180 { d -= 360 } else if d < -180 { d += 360 }
            #expect(abs(d) < 1e-6)
            let wcs = try WCS(header: cards)
            centres.append(try wcs.pixelToSky(PixelPosition(x: 1024.5, y: 1024.5)))
            let back = try wcs.skyToPixel(try wcs.pixelToSky(PixelPosition(x: 10, y: 2000)))
            #expect(abs(back.x - 10) < 1e-6 && abs(back.y - 2000) < 1e-6)
        }
        // Detector centres ≈ 0.97 × 2048 × 0.4″ from the axis along each axis, one per quadrant.
        let quadrants = Set(centres.map { ($0.ra > axis.ra ? 1 : 0) + ($0.dec > axis.dec ? 2 : 0) })
        #expect(quadrants.count == 4)
        for c in centres {
            let off = Gnomonic.offsets(c, centre: (axis.ra, axis.dec))
            #expect(abs(abs(off.eta) * 3600 / 0.4 - 1986.56) < 25)  // ZPN distortion moves it a little
        }
    }

    /// Neighbouring pointings overlap (so mosaics can be made).
    @Test func pointingsOverlap() throws {
        let plane = FocalPlane(size: 256)
        let a = plane.pointingOffset(index: 0, count: 2), b = plane.pointingOffset(index: 1, count: 2)
        let step = abs(b.xi - a.xi) * 3600 / 0.4
        #expect(step < 2 * plane.footprintHalfWidth)
        #expect(abs(step - 0.9 * 256) < 1e-6)
        // The right chip of pointing 0 and the left chip of pointing 1 share sky.
        let halfChip = 128.0, o = plane.detectorOffset
        let right0 = (o - halfChip)...(o + halfChip), left1 = (-o - halfChip + step)...(-o + halfChip + step)
        #expect(right0.overlaps(left1) || ((-o - halfChip)...(-o + halfChip)).overlaps(left1))
    }

    @Test func planNumbersRunsPerNightAndPairsH2WithK() throws {
        var config = SimulationConfig(outputDirectory: URL(fileURLWithPath: "/nonexistent"))
        config.programmes = [.GPS, .LAS]
        config.nights = [Night("20051012")!, Night("20061013")!]
        config.pointings = 2
        config.exposures = 2
        config.corrupt = 3
        let plan = ObservationPlan(config: config)
        #expect(plan.frames.filter { $0.corruption == nil }.count == 2 * 2 * 2 * (4 + 4))
        #expect(plan.frames.filter { $0.corruption != nil }.count == 3)
        for night in config.nights {
            let frames = plan.frames.filter { $0.night == night }
            #expect(frames.first?.run == 1)
            for (a, b) in zip(frames, frames.dropFirst()) {
                #expect(b.run == a.run + a.njitter)
                #expect(b.mjdStart > a.mjdStart)
            }
            #expect(Set(frames.map(\.imageName)).count == frames.count)
        }
        // Every GPS pointing is observed in H2 and in K with the same base position.
        for p in 0..<2 {
            let good = plan.frames.filter { $0.corruption == nil && $0.programme == .GPS && $0.pointing == p }
            let h2 = good.filter { $0.passband == .H2 }, k = good.filter { $0.passband == .K }
            #expect(!h2.isEmpty && h2.count == k.count)
            #expect(h2.allSatisfy { $0.base == k[0].base })
        }
        // Corrupt frames come after every good frame of their night.
        for f in plan.frames where f.corruption != nil {
            let good = plan.frames.filter { $0.night == f.night && $0.corruption == nil }
            #expect(good.allSatisfy { $0.run < f.run })
        }
    }

    @Test func populationHasMoversClusterAndH2Knots() {
        let plane = FocalPlane(size: 512)
        let gps = SkyPopulation(programme: .GPS, seed: 3, focalPlane: plane, pointings: 2, starScale: 0.2, galaxyScale: 0.2)
        let knots = gps.sources.filter { $0.type == .h2 }
        #expect(knots.count >= 4)
        #expect(knots.allSatisfy { $0.mag(.H2) < $0.mag(.K) - 2.5 && $0.mag(.J).isNaN })
        #expect(gps.sources.filter { $0.subtype == "fast" }.count >= 3)
        #expect(gps.sources.contains { $0.type == .galaxy })
        let gcs = SkyPopulation(programme: .GCS, seed: 3, focalPlane: plane, pointings: 1, starScale: 1, galaxyScale: 1)
        let cluster = gcs.sources.filter { $0.subtype == "cluster" }
        #expect(cluster.count >= 8)
        #expect(cluster.allSatisfy { abs($0.pmDec + 45.5) < 6 })
        // Fixed by the seed.
        let again = SkyPopulation(programme: .GPS, seed: 3, focalPlane: plane, pointings: 2, starScale: 0.2, galaxyScale: 0.2)
        #expect(again.sources.map(\.id) == gps.sources.map(\.id))
        #expect(again.sources.map(\.ra) == gps.sources.map(\.ra))
        #expect(again.sources.map { $0.mag(.K) } == gps.sources.map { $0.mag(.K) })
        // Proper motion applied for the epoch.
        let s = gps.sources.first { $0.subtype == "fast" }!
        let p = s.position(epoch: 2010)
        #expect(abs((p.dec - s.dec) * 3.6e6 - 10 * s.pmDec) < 1e-6)
    }

    /// The aperture corrections describe the PSF as drawn: a noiseless star measured through the
    /// same aperture code gives back its flux once corrected.
    @Test func apertureCorrectionsMatchTheDrawnPSF() {
        let psf = MoffatPSF(fwhm: 2.2)
        let radii = CatalogueColumns.apertureMultipliers.map { $0 * 2.5 }
        let apcor = psf.apertureCorrections(radii: radii)
        #expect(apcor.apertures.allSatisfy { $0 >= 0 })
        #expect(zip(apcor.apertures, apcor.apertures.dropFirst()).allSatisfy { $0 >= $1 })
        #expect(apcor.apertures[2] > 0.1 && apcor.apertures[2] < 0.5)
        let size = 101
        var image = [Float](repeating: 0, count: size * size)
        image.withUnsafeMutableBufferPointer {
            psf.addStar(to: $0, width: size, height: size, x: 51.3, y: 50.8, flux: 10000, radius: 49)
        }
        let f = Aperture.fluxes(image: image, width: size, height: size, cx: 51.3, cy: 50.8, radii: radii, good: nil)
        let recovered = -2.5 * log10(f.flux[2] / 10000) - apcor.apertures[2]
        #expect(abs(recovered) < 0.005)
        #expect(psf.fractionOutside(0) == 1 && psf.fractionOutside(30) < 1e-4)
    }

    @Test func catalogueColumnsFollowCASU() {
        #expect(CatalogueColumns.names.count == 80)
        #expect(CatalogueColumns.units.count == 80)
        #expect(CatalogueColumns.names[58] == "RA" && CatalogueColumns.names[59] == "DEC")
        #expect(CatalogueColumns.units[58] == "Radians")
        #expect(CatalogueColumns.names[19] == "Aper_flux_1" && CatalogueColumns.names[44] == "Aper_flux_13_err")
        #expect(CatalogueColumns.names[60] == "Classification" && CatalogueColumns.names[79] == "Blank80")
    }

    @Test func invalidConfigurationsAreRefused() {
        var c = SimulationConfig(outputDirectory: URL(fileURLWithPath: "/tmp/x"))
        c.detectorSize = 8
        #expect(throws: SimulationError.self) { try c.validate() }
        c.detectorSize = 128
        c.nights = []
        #expect(throws: SimulationError.self) { try c.validate() }
    }
}
