import Foundation

/// Fixed properties of one WFCAM detector: its bad pixels and flat-field confidence pattern.
/// The same for every frame (seeded by camera number only), as a real array's defects are.
public struct DetectorDefects: Sendable {
    public let camnum: Int
    public let size: Int
    /// True where the pixel is dead (confidence 0).
    public let dead: [Bool]
    /// Relative flat-field confidence (median 1).
    public let flat: [Float]

    /// Read noise (e⁻), gain (e⁻/ADU), temperature (K) and device name of each camera.
    public static let readNoise = [24.0, 26.0, 23.0, 25.0]
    public static let gain = [4.6, 4.5, 4.7, 4.4]
    public static let temperature = [75.9, 76.1, 75.8, 76.0]
    public static let deviceID = ["Hawaii-II-3", "Hawaii-II-5", "Hawaii-II-1", "Hawaii-II-7"]
    /// Counts at which a pixel saturates (non-linear beyond).
    public static let saturation = 38000.0

    public init(camnum: Int, size: Int, seed: UInt64) {
        self.camnum = camnum
        self.size = size
        var rng = Xoshiro256(seed: seed, "defects", camnum, size)
        let n = size * size
        var dead = [Bool](repeating: false, count: n)
        // Dead columns: one or two full, one partial.
        let full = 1 + rng.int(2)
        for _ in 0..<full {
            let c = 2 + rng.int(max(1, size - 4))
            for j in 0..<size { dead[j * size + c] = true }
        }
        let pc = 2 + rng.int(max(1, size - 4)), start = rng.int(size)
        for j in start..<size { dead[j * size + pc] = true }
        // Scattered dead pixels and one small dead cluster.
        let scattered = max(3, Int(Double(n) * 2e-4))
        for _ in 0..<scattered { dead[rng.int(n)] = true }
        let bx = rng.int(size), by = rng.int(size), br = 2 + rng.int(max(1, min(5, size / 40)))
        for j in max(0, by - br)..<min(size, by + br + 1) {
            for i in max(0, bx - br)..<min(size, bx + br + 1) where (i - bx) * (i - bx) + (j - by) * (j - by) <= br * br {
                dead[j * size + i] = true
            }
        }
        self.dead = dead
        // Flat-field confidence: a smooth gradient and vignetting with pixel-to-pixel scatter.
        let gx = rng.gaussian(0, 0.03), gy = rng.gaussian(0, 0.03), gr = rng.uniform(-0.06, -0.02)
        var flat = [Float](repeating: 1, count: n)
        let s = Double(size)
        for j in 0..<size {
            let y = (Double(j) + 0.5) / s - 0.5
            for i in 0..<size {
                let x = (Double(i) + 0.5) / s - 0.5
                flat[j * size + i] = Float(1 + gx * x + gy * y + gr * (x * x + y * y) + 0.02 * rng.gaussian())
            }
        }
        var sorted = flat
        let median = Select.median(&sorted)
        for k in 0..<n { flat[k] /= median }
        self.flat = flat
    }

    /// Jitter coverage along one axis: the fraction of `njitter` exposures covering a pixel at
    /// distance `d` (pixels) from the edge, for a pattern spanning `span` pixels.
    static func coverage(_ d: Int, njitter: Int, span: Int) -> Double {
        guard njitter > 1, span > 0 else { return 1 }
        var covered = 0
        for k in 0..<njitter where Double(k) * Double(span) / Double(njitter - 1) <= Double(d) { covered += 1 }
        return Double(covered) / Double(njitter)
    }

    /// The confidence map of a stack of `njitter` exposures: flat × edge coverage, scaled to a
    /// median of 100, 0 where dead.
    public func confidence(njitter: Int) -> [Int16] {
        let span = max(2, Int((16.0 * Double(size) / 2048).rounded()))
        let edge = (0..<size).map { i in Self.coverage(min(i, size - 1 - i), njitter: njitter, span: span) }
        var raw = [Float](repeating: 0, count: size * size)
        var live: [Float] = []
        live.reserveCapacity(size * size)
        for j in 0..<size {
            for i in 0..<size {
                let k = j * size + i
                if dead[k] { continue }
                raw[k] = flat[k] * Float(edge[i] * edge[j])
                live.append(raw[k])
            }
        }
        // Scale so the median of the live pixels is exactly 100 (rounding is monotonic).
        let scale = 100 / Double(max(Select.median(&live), 1e-6))
        var conf = [Int16](repeating: 0, count: size * size)
        for k in 0..<(size * size) where !dead[k] {
            conf[k] = Int16(max(1, min(32767, (Double(raw[k]) * scale).rounded())))
        }
        return conf
    }
}

/// Selection (quickselect) helpers.
enum Select {
    /// The k-th smallest element (0-based); reorders `a`.
    static func kth(_ a: inout [Float], _ k: Int) -> Float {
        var lo = 0, hi = a.count - 1
        while hi > lo {
            let pivot = a[(lo + hi) / 2]
            var i = lo, j = hi
            while i <= j {
                while a[i] < pivot { i += 1 }
                while a[j] > pivot { j -= 1 }
                if i <= j {
                    a.swapAt(i, j)
                    i += 1; j -= 1
                }
            }
            if k <= j { hi = j } else if k >= i { lo = i } else { return a[k] }
        }
        return a[k]
    }

    /// Median (lower median for even counts); reorders `a`. 0 for an empty array.
    static func median(_ a: inout [Float]) -> Float {
        guard !a.isEmpty else { return 0 }
        return kth(&a, (a.count - 1) / 2)
    }
}
