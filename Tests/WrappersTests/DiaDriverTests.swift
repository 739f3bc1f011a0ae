import FITS
import Foundation
import SimulatorKit
import Testing
import TestSupport
@testable import WrapperCore
@testable import AppDriver
@testable import Drivers

/// DiaDriver (H2 − K through SWarp) on a simulated GPS night: one pointing in J, H, K and H2 of
/// 256² detectors, stars 4× denser than GPS's; checked against the simulator's truth (H2 knots
/// stand out, stars cancel).
@Suite(.serialized) struct DiaDriverTests {
    static let night = SimulatedNights.make("wsa-dia-gps-seed31-d4-v1", seed: 31, size: 256, programmes: [.GPS],
                                            starDensity: 4)
    static var delivery: URL { night.appendingPathComponent("20051012_v1") }

    /// The frames of the night by FILTER.
    static func frames() throws -> [String: StackInput] {
        let names = try FileManager.default.contentsOfDirectory(atPath: delivery.path)
            .filter { $0.hasSuffix("_sf_st.fit") }.sorted()
        var byFilter: [String: StackInput] = [:]
        for name in names {
            let input = try StackInput(image: delivery.appendingPathComponent(name))
            byFilter[input.filter] = input
        }
        return byFilter
    }

    static func directories() throws -> (out: URL, work: URL) { try ProductTestSupport.directories("dia") }

    static func diff(_ h2: StackInput, _ k: StackInput, _ name: String, in out: URL, work: URL,
                     driver: AppDriver = AppDriver()) async throws(WrapperError) -> DiffProduct {
        try await DiaDriver.makeDiffImage(h2: h2, k: k, to: out.appendingPathComponent("\(name).fit"),
                                          confidence: out.appendingPathComponent("\(name)_conf.fit"),
                                          appDriver: driver, workDirectory: work)
    }

    /// `truth/frames.fits` with the columns these tests need.
    struct Truth {
        var file: [String], camera: [Int], id: [Int64], x: [Double], y: [Double], flux: [Double]
        var mag: [Double], type: [String]

        init(night: URL) throws {
            let t = try FITSFile.open(night.appendingPathComponent("truth/frames.fits").path)
            defer { try? t.close() }
            try t.moveTo(hdu: 2)
            file = try t.readStringColumn(try t.columnIndex("file"))
            camera = try t.readColumn("extension", as: Int32.self).map(Int.init)
            id = try t.readColumn("source_id", as: Int64.self)
            x = try t.readColumn("x", as: Double.self)
            y = try t.readColumn("y", as: Double.self)
            flux = try t.readColumn("flux", as: Double.self)
            mag = try t.readColumn("mag", as: Double.self)
            type = try t.readStringColumn(try t.columnIndex("type"))
        }

        func on(_ frame: URL, camera: Int) -> [Int] {
            let key = "20051012_v1/" + frame.lastPathComponent
            return file.indices.filter { file[$0] == key && self.camera[$0] == camera }
        }
    }

    typealias Image = ProductTestSupport.Image

    /// 1.4826 × MAD of aperture sums (radius `r`) on a grid of positions over full-confidence sky
    /// away from every truth source: the noise of an aperture, correlations included.
    static func apertureNoise(_ image: Image, _ conf: Image, r: Double, avoiding sources: [(Double, Double)]) -> Double {
        var sums: [Double] = []
        var y = 20.0
        while y < Double(image.height) - 20 {
            var x = 20.0
            while x < Double(image.width) - 20 {
                let clear = sources.allSatisfy { hypot($0.0 - x, $0.1 - y) > r + 10 }
                if clear && conf.at(Int(x), Int(y)) >= 80 { sums.append(image.aperture(x, y, r: r)) }
                x += 7
            }
            y += 7
        }
        guard sums.count >= 20 else { return .nan }
        let median = sums.sorted()[sums.count / 2]
        return 1.4826 * sums.map { abs($0 - median) }.sorted()[sums.count / 2]
    }

    // MARK: - Against the truth

    /// Aperture photometry (radius 6 pixels) of the truth's H2 knots (H2 mag < 15.5; each
    /// expected at ≥ 5σ and 0.6–1.2 × its truth H2 flux less its scaled truth K flux) and of its
    /// bright isolated stars (|residual| / H2 aperture flux) in the difference.
    static func measure(_ product: DiffProduct, h2: StackInput, k: StackInput) throws
        -> (knotSN: [Double], knotRatio: [Double], starResidual: [Double]) {
        let truth = try Truth(night: Self.night)
        var knotSN: [Double] = [], knotRatio: [Double] = [], starResidual: [Double] = [], starPeak: [Double] = []
        for ext in product.extensions {
            let camera = ext.camNum ?? (ext.hdu - 1)
            let difference = try Image.read(product.image, hdu: ext.hdu)
            let conf = try Image.read(product.confidence, hdu: ext.hdu)
            let original = try Image.read(h2.image, hdu: ext.hdu)
            #expect(difference.width == original.width && difference.height == original.height)
            let here = truth.on(h2.image, camera: camera)
            let kRows = Dictionary(truth.on(k.image, camera: camera).map { (truth.id[$0], $0) }) { a, _ in a }
            let positions = here.filter { truth.mag[$0] < 17.5 }.map { (truth.x[$0], truth.y[$0]) }
            let radius = 6.0
            let sigma = Self.apertureNoise(difference, conf, r: radius, avoiding: positions)
            #expect(sigma.isFinite && sigma > 0, "HDU \(ext.hdu): no clear sky to measure the aperture noise")
            print("DiaDriverTests HDU \(ext.hdu): KSCALE \(String(format: "%.4f", ext.kScale)) PSF σ \(String(format: "%.3f", ext.psfSigma)) on \(ext.smoothed) SKYNOISE \(String(format: "%.2f", ext.skyNoise)) aperture σ \(String(format: "%.1f", sigma))")
            func inside(_ i: Int, margin: Double) -> Bool {
                let (x, y) = (truth.x[i], truth.y[i])
                guard x > margin, y > margin, x < Double(difference.width) - margin,
                      y < Double(difference.height) - margin else { return false }
                return conf.at(Int(x.rounded()), Int(y.rounded())) >= 50
            }
            // Knots.
            for i in here where truth.type[i] == "h2" && truth.mag[i] < 15.5 && inside(i, margin: 16) {
                let flux = difference.aperture(truth.x[i], truth.y[i], r: radius)
                let expected = truth.flux[i] - ext.kScale * (kRows[truth.id[i]].map { truth.flux[$0] } ?? 0)
                knotSN.append(flux / sigma)
                knotRatio.append(flux / expected)
                print("DiaDriverTests knot HDU \(ext.hdu) H2 mag \(String(format: "%.2f", truth.mag[i])): aperture \(Int(flux)) expected \(Int(expected)) S/N \(String(format: "%.1f", flux / sigma))")
                #expect(flux >= 5 * sigma, "HDU \(ext.hdu): knot of H2 mag \(truth.mag[i]) at S/N \(flux / sigma)")
                #expect(flux > 0.6 * expected && flux < 1.2 * expected,
                        "HDU \(ext.hdu): knot of H2 mag \(truth.mag[i]): \(flux) where the truth says \(expected)")
            }
            // Bright, isolated, unsaturated stars.
            for i in here where truth.type[i] == "star" && (11.5...14.5).contains(truth.mag[i]) && inside(i, margin: 20) {
                let isolated = here.allSatisfy { j in
                    j == i || truth.mag[j] > truth.mag[i] + 4
                        || hypot(truth.x[j] - truth.x[i], truth.y[j] - truth.y[i]) > 16
                }
                guard isolated else { continue }
                let fluxH2 = original.aperture(truth.x[i], truth.y[i], r: radius)
                let residual = difference.aperture(truth.x[i], truth.y[i], r: radius)
                starResidual.append(abs(residual) / fluxH2)
                // No dipole either (the grids agree): the largest |pixel| of the residual within
                // 3 pixels stays small against the star's peak.
                var peakH2: Float = 0, peakResidual: Float = 0
                for y in Int(truth.y[i]) - 3...Int(truth.y[i]) + 3 {
                    for x in Int(truth.x[i]) - 3...Int(truth.x[i]) + 3
                    where hypot(Double(x) - truth.x[i], Double(y) - truth.y[i]) <= 3 {
                        peakH2 = max(peakH2, original.at(x, y) - Float(original.header.double("SKYLEVEL") ?? 0))
                        peakResidual = max(peakResidual, abs(difference.at(x, y)))
                    }
                }
                starPeak.append(Double(peakResidual / peakH2))
            }
        }
        let peaks = starPeak.sorted()
        print("DiaDriverTests: largest residual pixel / star peak: median \(String(format: "%.3f", peaks.isEmpty ? .nan : peaks[peaks.count / 2])), max \(String(format: "%.3f", peaks.last ?? .nan))")
        #expect(!peaks.isEmpty && peaks[peaks.count / 2] < 0.1, "a dipole: the grids do not agree")
        return (knotSN, knotRatio, starResidual)
    }


    /// H2 knots stand out in the difference at their truth positions, with about their H2 flux
    /// less their scaled K flux (the truth's); stars cancel to a few per cent of their H2 flux.
    @Test func knotsStandOutAndStarsCancel() async throws {
        let (out, work) = try Self.directories()
        defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
        let frames = try Self.frames()
        let h2 = try #require(frames["H2"]), k = try #require(frames["K"])
        let start = ContinuousClock.now
        let product = try await Self.diff(h2, k, "diff", in: out, work: work)
        print("DiaDriverTests: difference image made in \(ContinuousClock.now - start)")
        #expect(product.extensions.count == 4 && product.extensions.map(\.camNum) == [1, 2, 3, 4])
        #expect(product.smoothed == .h2, "H2's seeing is the sharper in this night")

        let (knotSN, knotRatio, starResidual) = try Self.measure(product, h2: h2, k: k)
        let sortedResiduals = starResidual.sorted()
        let medianResidual = sortedResiduals.isEmpty ? .nan : sortedResiduals[sortedResiduals.count / 2]
        print("DiaDriverTests: \(knotSN.count) knots, S/N \(knotSN.map { String(format: "%.0f", $0) }), flux/truth \(knotRatio.map { String(format: "%.2f", $0) }); \(starResidual.count) stars, median |residual|/flux \(String(format: "%.4f", medianResidual)), max \(String(format: "%.4f", sortedResiduals.last ?? .nan))")
        #expect(knotSN.count >= 3)
        #expect(starResidual.count >= 8)
        #expect(medianResidual < 0.03, "median |star residual| / H2 flux = \(medianResidual)")
    }

    /// Frames without SEEING: the seeings measured on the images give a PSF match about as
    /// good (the same σ within 0.2 pixel, stars still cancel, knots still stand out).
    @Test func starsCancelWithMeasuredSeeing() async throws {
        let (out, work) = try Self.directories()
        defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
        let frames = try Self.frames()
        var h2 = try #require(frames["H2"]), k = try #require(frames["K"])
        let keywordSigma = h2.detectors.indices.map { i in
            DiffImaging.matchingKernel(h2: h2.detectors[i].seeing!, k: k.detectors[i].seeing!).sigma
        }
        for i in h2.detectors.indices { h2.detectors[i].seeing = nil }
        for i in k.detectors.indices { k.detectors[i].seeing = nil }
        let product = try await Self.diff(h2, k, "measured", in: out, work: work)
        for (ext, sigma) in zip(product.extensions, keywordSigma) {
            print("DiaDriverTests measured seeing HDU \(ext.hdu): H2 \(String(format: "%.3f", ext.seeingH2)) K \(String(format: "%.3f", ext.seeingK)) σ \(String(format: "%.3f", ext.psfSigma)) (from SEEING \(String(format: "%.3f", sigma)))")
            #expect(ext.smoothed == .h2 && abs(ext.psfSigma - sigma) < 0.2, "HDU \(ext.hdu)")
        }
        let (knotSN, _, starResidual) = try Self.measure(product, h2: h2, k: k)
        let sorted = starResidual.sorted()
        let median = sorted.isEmpty ? .nan : sorted[sorted.count / 2]
        print("DiaDriverTests measured seeing: \(starResidual.count) stars, median |residual|/flux \(String(format: "%.4f", median))")
        #expect(knotSN.count >= 3 && starResidual.count >= 8)
        #expect(median < 0.03, "median |star residual| / H2 flux = \(median)")
    }

    // MARK: - Files

    /// The product and its confidence map pass fitsverify (no errors, no warnings) and open in
    /// astropy, with the H2 grid and WCS, the cards saying what went in, and headers naming the
    /// final files when the targets end in `.part`.
    @Test func productsPassFitsverifyAndOpenInAstropy() async throws {
        let (out, work) = try Self.directories()
        defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
        let frames = try Self.frames()
        let h2 = try #require(frames["H2"]), k = try #require(frames["K"])
        let product = try await DiaDriver.makeDiffImage(
            h2: h2, k: k, to: out.appendingPathComponent("diff.fit.part"),
            confidence: out.appendingPathComponent("diff_conf.fit.part"), appDriver: AppDriver(), workDirectory: work)
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.path).isEmpty)
        #expect(try Set(FileManager.default.contentsOfDirectory(atPath: out.path)) == ["diff.fit.part", "diff_conf.fit.part"])
        for url in [product.image, product.confidence] {
            let (clean, report) = try fitsverify(url.path)
            #expect(clean, "\(report)")
        }
        #expect(product.h2 == h2.image && product.k == k.image && product.expTime == h2.expTime)
        for ext in product.extensions {
            let d = h2.detectors[ext.hdu - 2], kd = k.detectors[ext.hdu - 2]
            #expect(ext.magZpt == d.magZpt && ext.width == d.width && ext.height == d.height)
            let expected = h2.expTime / k.expTime * pow(10, 0.4 * (d.zeroPoint(airmass: h2.airmass) - kd.zeroPoint(airmass: k.airmass)))
            #expect(abs(ext.kScale / expected - 1) < 1e-12)
            #expect(ext.skyNoise > 0 && abs(ext.skyLevel) < ext.skyNoise)
        }
        let output = try runPython("""
            import sys, warnings, json
            import numpy as np
            from astropy.io import fits
            from astropy.wcs import WCS
            warnings.simplefilter("error")
            image, conf, h2 = sys.argv[1:4]
            with fits.open(image) as f, fits.open(conf) as c, fits.open(h2) as o:
                p = f[0].header
                r = {"hdus": len(f), "chdus": len(c), "filter": p["FILTER"], "diffimg": p["DIFFIMG"],
                     "a": p["IMAGE_A"], "b": p["IMAGE_B"], "kscale": p["KSCALE"], "psfimage": p["PSFIMAGE"],
                     "psfsigma": p["PSFSIGMA"], "magzpt": p["MAGZPT"], "ext": []}
                for h, ch, oh in zip(f[1:], c[1:], o[1:]):
                    w, ow, cw = WCS(h.header), WCS(oh.header), WCS(ch.header)
                    pix = [[10.0, 20.0], [200.0, 150.0]]
                    sky, osky = w.wcs_pix2world(pix, 1), ow.wcs_pix2world(pix, 1)
                    live = ch.data[ch.data > 0]
                    r["ext"].append({"dtype": str(h.data.dtype), "cdtype": str(ch.data.dtype),
                                     "shape": list(h.data.shape), "cshape": list(ch.data.shape),
                                     "oshape": list(oh.data.shape), "ctype": w.wcs.ctype[0],
                                     "cctype": cw.wcs.ctype[0],
                                     "offset": float(np.max(np.abs(sky - osky))) * 3600,
                                     "median": float(np.median(live)), "magzpt": h.header["MAGZPT"],
                                     "camnum": h.header["CAMNUM"], "ccamnum": ch.header["CAMNUM"],
                                     "cpm": h.header["CIR_CPM"], "kscale": h.header["KSCALE"]})
            print(json.dumps(r))
            """, [product.image.path, product.confidence.path, h2.image.path])
        let r = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        #expect(r["hdus"] as? Int == 5 && r["chdus"] as? Int == 5)
        #expect(r["filter"] as? String == "H2" && r["diffimg"] as? String == "H2-K")
        #expect(r["a"] as? String == h2.image.lastPathComponent && r["b"] as? String == k.image.lastPathComponent)
        #expect((r["kscale"] as? Double).map { abs($0 - product.kScale) < 1e-6 } == true)
        #expect(r["psfimage"] as? String == "H2")
        #expect((r["psfsigma"] as? Double).map { abs($0 - product.psfSigma) < 1e-3 } == true)
        let exts = try #require(r["ext"] as? [[String: Any]])
        #expect(exts.count == 4)
        for (i, e) in exts.enumerated() {
            #expect(e["dtype"] as? String == ">f4" || e["dtype"] as? String == "float32")
            #expect(e["cdtype"] as? String == ">i2" || e["cdtype"] as? String == "int16")
            #expect(e["shape"] as? [Int] == e["oshape"] as? [Int] && e["cshape"] as? [Int] == e["oshape"] as? [Int])
            #expect(e["ctype"] as? String == "RA---ZPN" && e["cctype"] as? String == "RA---ZPN")
            #expect((e["offset"] as? Double).map { $0 < 1e-6 } == true, "the product keeps the H2 WCS")
            #expect((e["median"] as? Double).map { abs($0 - 100) <= 1 } == true, "median confidence \(e["median"] ?? "?")")
            #expect(e["magzpt"] as? Double == h2.detectors[i].magZpt)
            #expect(e["camnum"] as? Int == i + 1 && e["ccamnum"] as? Int == i + 1)
            // The header names the final confidence map, not the .part file.
            #expect(e["cpm"] as? String == "diff_conf.fit[\(i + 1)]")
            #expect((e["kscale"] as? Double).map { abs($0 - product.extensions[i].kScale) < 1e-7 } == true)
        }
    }

    /// The confidence is 0 where either frame is dead or K does not reach, and follows the
    /// inverse variance elsewhere.
    @Test func confidenceCombinesBothMaps() throws {
        // Two maps: H2 full everywhere but a dead pixel, K half depth on the right half and
        // absent on the last column.
        let (w, h) = (8, 4)
        var c1 = [Float](repeating: 100, count: w * h), c2 = [Float](repeating: 100, count: w * h)
        c1[5] = 0
        for y in 0..<h {
            for x in 4..<w { c2[y * w + x] = 50 }
            c2[y * w + w - 1] = 0
        }
        let conf = DiffImaging.confidence(h2: c1, noiseH2: 2, k: c2, noiseK: 4, scale: 0.5)
        #expect(conf[5] == 0 && (0..<h).allSatisfy { conf[$0 * w + w - 1] == 0 })
        // V = 4·m1/c1 + 0.25·16·m2/c2 with m1 = m2 = 100 (the medians of the live values):
        // left 4 + 4 = 8, right 4 + 8 = 12; the median 1/V is the left's (more live pixels there).
        #expect(conf[0] == 100)
        #expect(conf[4] == Int16((100.0 * 8 / 12).rounded()))
    }

    /// Without SEEING, the seeing measured on the image agrees with the keyword.
    @Test func seeingIsMeasuredWhenTheKeywordIsMissing() throws {
        let frames = try Self.frames()
        for frame in [try #require(frames["H2"]), try #require(frames["K"])] {
            for detector in frame.detectors {
                let d = try DiaDriver.readDetector(frame, hdu: detector.hdu)
                let sky = DiffImaging.background(d.pixels, weights: d.confidence, width: d.width, height: d.height)
                let pixels = zip(d.pixels, sky).map { $0 - $1 }
                let noise = DiffImaging.robustSigma(pixels, weights: d.confidence)
                let measured = DiffImaging.measureFWHM(pixels, weights: d.confidence, width: d.width,
                                                       height: d.height, noise: noise)
                let keyword = try #require(detector.seeing)
                guard let fwhm = measured else {
                    Issue.record("\(frame.filter) HDU \(detector.hdu): no seeing measured")
                    continue
                }
                print("DiaDriverTests seeing \(frame.filter) HDU \(detector.hdu): measured \(String(format: "%.3f", fwhm)) SEEING \(keyword)")
                #expect(abs(fwhm / keyword - 1) < 0.15, "\(frame.filter) HDU \(detector.hdu): \(fwhm) vs SEEING \(keyword)")
            }
        }
    }

    // MARK: - Failures

    /// SWarp failing, crashing or missing, bad inputs: one error line naming the file or the
    /// tool, nothing left in the destination or the work directory.
    @Test func failuresLeaveNoProduct() async throws {
        let (out, work) = try Self.directories()
        let base = out.deletingLastPathComponent()
        defer { try? FileManager.default.removeItem(at: base) }
        let frames = try Self.frames()
        let h2 = try #require(frames["H2"]), k = try #require(frames["K"]), j = try #require(frames["J"])

        /// Making the difference of `h2` and `k` fails as `check` wants, leaving nothing behind.
        func expectFailure(_ label: String, _ driver: AppDriver = AppDriver(), h2: StackInput, k: StackInput,
                           sourceLocation: SourceLocation = #_sourceLocation,
                           _ check: (WrapperError) -> Bool) async throws {
            try await ProductTestSupport.expectFailure(label, out: out, work: work, sourceLocation: sourceLocation,
                                                       check: check) { () async throws(WrapperError) in
                _ = try await Self.diff(h2, k, "p", in: out, work: work, driver: driver)
            }
        }

        let failing = try ProductTestSupport.failingSwarp(in: base)
        try await expectFailure("exit 3", AppDriver(toolPaths: ["swarp": failing]), h2: h2, k: k) {
            $0.code == .failed && $0.tool == "SWarp" && $0.message == ProductTestSupport.failingSwarpMessage
        }

        // The third detector's run crashes after two succeeded (and were written).
        let crashing = try ProductTestSupport.crashingSwarp(fromRun: 3, in: base)
        try await expectFailure("crash", AppDriver(toolPaths: ["swarp": crashing]), h2: h2, k: k) {
            $0.code == .signalled && $0.message.hasPrefix("SWarp killed by SIGSEGV")
        }

        try await expectFailure("missing", AppDriver(toolPaths: ["swarp": "/nonexistent/SWarp"]), h2: h2, k: k) {
            $0.code == .toolMissing && $0.message.contains("apt-get install swarp")
        }

        // A K frame cut short (its headers readable, its pixels not), then the same for the H2 frame.
        var truncated = k
        truncated.image = try ProductTestSupport.truncatedCopy(of: k.image, tenths: 6, in: base)
        try await expectFailure("truncated K", h2: h2, k: truncated) {
            $0.code == .unreadable && $0.file == truncated.image.path
        }
        var truncatedH2 = h2
        truncatedH2.image = try ProductTestSupport.truncatedCopy(of: h2.image, tenths: 7, in: base)
        try await expectFailure("truncated H2", h2: truncatedH2, k: k) {
            $0.code == .unreadable && $0.file == truncatedH2.image.path
        }

        // A J frame given as K.
        try await expectFailure("J as K", h2: h2, k: j) {
            $0.code == .wrongContents && $0.file == j.image.path && $0.problem == "FILTER is J, not K"
        }

        // A K frame of another layout: its last detector missing.
        let short = base.appendingPathComponent("short_k.fit")
        do {
            let source = try FITSFile.open(k.image.path)
            let copy = try FITSFile.create(short.path, overwrite: true)
            for hdu in 1...4 {
                try source.moveTo(hdu: hdu)
                try copy.appendCopy(ofCurrentHDUOf: source)
            }
            try copy.close()
            try source.close()
        }
        let shortK = try StackInput(image: short, confidence: k.confidence)
        try await expectFailure("other layout", h2: h2, k: shortK) {
            $0.code == .wrongContents && $0.file == short.path
        }
    }

    /// The SWarp configuration is in the resource bundle.
    @Test func configurationFileIsBundled() throws {
        let text = try String(contentsOf: DiaDriver.configurationFile(), encoding: .utf8)
        #expect(text.contains("RESCALE_WEIGHTS        N") && text.contains("SUBTRACT_BACK          N"))
    }
}

extension ProductTestSupport.Image {
    /// Flux in a circle of radius `r` about (x, y) (FITS pixels) less the median of the
    /// annulus r+3…r+8 per pixel.
    func aperture(_ x: Double, _ y: Double, r: Double) -> Double {
        var inside: [Double] = [], ring: [Double] = []
        let reach = Int((r + 9).rounded(.up))
        for py in max(1, Int(y) - reach)...min(height, Int(y) + reach) {
            for px in max(1, Int(x) - reach)...min(width, Int(x) + reach) {
                let d = hypot(Double(px) - x, Double(py) - y)
                if d < r { inside.append(Double(at(px, py))) } else if d > r + 3 && d < r + 8 { ring.append(Double(at(px, py))) }
            }
        }
        let sky = ring.sorted()[ring.count / 2]
        return inside.reduce(0) { $0 + $1 - sky }
    }
}
