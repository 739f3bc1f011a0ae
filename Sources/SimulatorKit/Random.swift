import Foundation
import SystemSupport

/// xoshiro256** (Blackman & Vigna): the simulator's random numbers. Never the system RNG, so that
/// output depends only on `--seed`. Each frame and detector gets its own stream (`Stream.derive`),
/// so results do not depend on which thread drew them.
public struct Xoshiro256: RandomNumberGenerator, Sendable {
    var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64
    /// A spare normal deviate from the last Box–Muller pair.
    var spare: Double?

    public init(seed: UInt64) {
        var sm = SplitMix64(seed: seed)
        s0 = sm.next(); s1 = sm.next(); s2 = sm.next(); s3 = sm.next()
        if s0 | s1 | s2 | s3 == 0 { s0 = 1 }
    }

    /// A generator for one named stream of a run: `Xoshiro256(seed: 42, "noise", night, run, cam)`.
    public init(seed: UInt64, _ labels: any CustomStringConvertible...) {
        self.init(seed: Self.derive(seed, labels.map { $0.description }))
    }

    /// Hashes a seed and labels into a new 64-bit seed (FNV-1a over the labels, SplitMix-mixed).
    public static func derive(_ seed: UInt64, _ labels: [String]) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325 ^ seed
        for label in labels {
            for byte in label.utf8 {
                h ^= UInt64(byte)
                h = h &* 0x0000_0100_0000_01B3
            }
            h ^= 0xFF
            h = h &* 0x0000_0100_0000_01B3
        }
        var sm = SplitMix64(seed: h)
        return sm.next()
    }

    @inline(__always)
    static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 &- k)) }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = Self.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = Self.rotl(s3, 45)
        return result
    }

    /// Uniform in [0, 1).
    @inline(__always)
    public mutating func uniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform in [a, b).
    @inline(__always)
    public mutating func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * uniform() }

    /// An integer in 0..<n.
    public mutating func int(_ n: Int) -> Int {
        precondition(n > 0)
        return Int(next() % UInt64(n))
    }

    /// Standard normal deviate (polar Box–Muller, both values used).
    @inline(__always)
    public mutating func gaussian() -> Double {
        if let s = spare {
            spare = nil
            return s
        }
        // Marsaglia's polar form: no trigonometry.
        var u = 0.0, v = 0.0, s = 0.0
        repeat {
            u = 2 * uniform() - 1
            v = 2 * uniform() - 1
            s = u * u + v * v
        } while s >= 1 || s == 0
        let f = (-2.0 * Foundation.log(s) / s).squareRoot()
        spare = v * f
        return u * f
    }

    /// Normal deviate with mean and standard deviation.
    public mutating func gaussian(_ mean: Double, _ sigma: Double) -> Double { mean + sigma * gaussian() }

    /// Poisson deviate (Knuth for small means, normal approximation above 50).
    public mutating func poisson(_ mean: Double) -> Int {
        guard mean > 0 else { return 0 }
        if mean > 50 {
            return max(0, Int((mean + mean.squareRoot() * gaussian()).rounded()))
        }
        let l = Foundation.exp(-mean)
        var k = 0
        var p = 1.0
        repeat {
            k += 1
            p *= uniform()
        } while p > l
        return k - 1
    }
}
