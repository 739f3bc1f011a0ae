import CWCSLIB
import Foundation

/// A celestial position in degrees (ICRS/FK5 J2000 as the header says).
public struct SkyPosition: Sendable, Equatable {
    public var ra: Double
    public var dec: Double
    public init(ra: Double, dec: Double) {
        self.ra = ra
        self.dec = dec
    }
}

/// A pixel position in the FITS convention: the centre of the first pixel is (1, 1).
public struct PixelPosition: Sendable, Equatable {
    public var x: Double
    public var y: Double
    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }
}

/// A world coordinate system parsed from a FITS header by wcslib (TAN, ZPN with its PV terms,
/// and everything else wcslib knows). Thread-safe.
public final class WCS: @unchecked Sendable {
    private let prm: UnsafeMutablePointer<wcsprm>
    private var count: Int32
    private let lock = NSLock()
    /// Where the header came from, for error messages.
    public let source: String

    /// Parses the primary WCS of a header. Fails when the header has no celestial WCS.
    public convenience init(header: FITSHeader, source: String = "header") throws {
        try self.init(cards: Array(header.renderedRecords().utf8), source: source)
    }

    /// Parses the primary WCS of a header given as its bytes: 80-byte cards one after another,
    /// as in the file (``FITSFile/headerCards()``). Fails when it has no celestial WCS.
    ///
    /// A byte a FITS header may not hold (outside printable ASCII: a damaged file) is read as a
    /// space: wcslib's scanner ends the process ("fatal flex scanner internal error") or crashes
    /// on such bytes.
    public init(cards: [UInt8], source: String = "header") throws {
        self.source = source
        var records: [CChar] = cards.map { (0x20...0x7E).contains($0) ? CChar(bitPattern: $0) : 0x20 }
        records.append(0)
        let nkeyrec = Int32(cards.count / 80)
        var nreject: Int32 = 0, nwcs: Int32 = 0
        var wcs: UnsafeMutablePointer<wcsprm>?
        let status = wcspih(&records, nkeyrec, WCSHDR_all, 0, &nreject, &nwcs, &wcs)
        guard status == 0, let parsed = wcs, nwcs > 0 else {
            if wcs != nil { wcsvfree(&nwcs, &wcs) }
            throw FITSError(.wcsFailed, file: source, operation: "parse WCS", status: status,
                            message: status == 0 ? "no WCS keywords in the header"
                                : "wcslib: " + Self.message(status))
        }
        self.prm = parsed
        self.count = nwcs
        let set = wcsset(parsed)
        // From here on deinit frees the structures if we throw.
        guard set == 0 else {
            throw FITSError(.wcsFailed, file: source, operation: "set up WCS", status: set,
                            message: "wcslib: " + Self.message(set))
        }
        guard prm.pointee.lng >= 0, prm.pointee.lat >= 0 else {
            throw FITSError(.wcsFailed, file: source, operation: "parse WCS",
                            message: "the header has no celestial WCS (CTYPE1/CTYPE2 are not RA/DEC)")
        }
    }

    deinit {
        var p: UnsafeMutablePointer<wcsprm>? = prm
        wcsvfree(&count, &p)
    }

    static func message(_ status: Int32) -> String {
        let messages = [
            1: "null wcsprm pointer passed", 2: "memory allocation failed",
            3: "linear transformation matrix is singular", 4: "inconsistent or unrecognized coordinate axis type",
            5: "invalid parameter value", 6: "unrecognized coordinate transformation parameter",
            7: "ill-conditioned coordinate transformation parameter", 8: "one or more of the pixel coordinates were invalid",
            9: "one or more of the world coordinates were invalid", 10: "invalid world coordinate",
            11: "no solution found in the specified interval", 12: "invalid subimage specification",
            13: "non-separable subimage coordinate system",
        ]
        return messages[Int(status)] ?? "error \(status)"
    }

    /// The projection code, e.g. `ZPN` or `TAN`.
    public var projection: String {
        withUnsafeBytes(of: prm.pointee.cel.prj.code) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// Runs one wcslib transformation under the lock and turns its status into a `FITSError`.
    private func transform(_ operation: String, _ body: () -> Int32) throws {
        lock.lock()
        let status = body()
        lock.unlock()
        guard status == 0 else {
            throw FITSError(.wcsFailed, file: source, operation: operation, status: status,
                            message: "wcslib: " + Self.message(status))
        }
    }

    /// Converts pixel positions to sky positions.
    public func pixelToSky(_ pixels: [PixelPosition]) throws -> [SkyPosition] {
        let n = pixels.count
        guard n > 0 else { return [] }
        var pix = [Double](repeating: 0, count: 2 * n)
        for (i, p) in pixels.enumerated() {
            pix[2 * i] = p.x
            pix[2 * i + 1] = p.y
        }
        var img = [Double](repeating: 0, count: 2 * n), world = [Double](repeating: 0, count: 2 * n)
        var phi = [Double](repeating: 0, count: n), theta = [Double](repeating: 0, count: n)
        var stat = [Int32](repeating: 0, count: n)
        try transform("pixel to sky") { wcsp2s(prm, Int32(n), 2, &pix, &img, &phi, &theta, &world, &stat) }
        let lng = Int(prm.pointee.lng), lat = Int(prm.pointee.lat)
        return (0..<n).map { SkyPosition(ra: world[2 * $0 + lng], dec: world[2 * $0 + lat]) }
    }

    /// Converts sky positions to pixel positions.
    public func skyToPixel(_ positions: [SkyPosition]) throws -> [PixelPosition] {
        let n = positions.count
        guard n > 0 else { return [] }
        let lng = Int(prm.pointee.lng), lat = Int(prm.pointee.lat)
        var world = [Double](repeating: 0, count: 2 * n)
        for (i, p) in positions.enumerated() {
            world[2 * i + lng] = p.ra
            world[2 * i + lat] = p.dec
        }
        var img = [Double](repeating: 0, count: 2 * n), pix = [Double](repeating: 0, count: 2 * n)
        var phi = [Double](repeating: 0, count: n), theta = [Double](repeating: 0, count: n)
        var stat = [Int32](repeating: 0, count: n)
        try transform("sky to pixel") { wcss2p(prm, Int32(n), 2, &world, &phi, &theta, &img, &pix, &stat) }
        return (0..<n).map { PixelPosition(x: pix[2 * $0], y: pix[2 * $0 + 1]) }
    }

    public func pixelToSky(_ pixel: PixelPosition) throws -> SkyPosition {
        try pixelToSky([pixel])[0]
    }

    public func skyToPixel(_ position: SkyPosition) throws -> PixelPosition {
        try skyToPixel([position])[0]
    }
}

extension FITSFile {
    /// The WCS of the current image HDU (compressed or not).
    public func wcs() throws -> WCS {
        do {
            // wcslib reads the cards as they are in the file: parsing them into a FITSHeader
            // first cost CU4 more than reading the catalogue itself.
            return try WCS(cards: headerCards(), source: path)
        } catch var e as FITSError {
            e.hdu = currentHDU
            throw e
        }
    }
}
