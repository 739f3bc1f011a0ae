/// Median-based statistics of pixel values, shared by ``StackProductWriter`` and
/// ``DiffImaging``: quickselect, median, 1.4826 × MAD (σ for Gaussian noise), evenly spaced
/// samples of large images, and a product's SKYLEVEL / SKYNOISE. The median of n values is the
/// (n / 2)-th smallest (0-based: the upper one when n is even); nothing is interpolated.
public enum RobustStatistics {
    /// σ = `madToSigma` × MAD for Gaussian noise.
    public static let madToSigma = 1.4826

    /// The k-th smallest value (0-based; quickselect, reorders `values`).
    public static func select(_ values: inout [Float], _ k: Int) -> Float {
        var low = 0, high = values.count - 1
        while low < high {
            let pivot = values[(low + high) / 2]
            var i = low, j = high
            while i <= j {
                while values[i] < pivot { i += 1 }
                while values[j] > pivot { j -= 1 }
                if i <= j {
                    values.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if k <= j { high = j } else if k >= i { low = i } else { return values[k] }
        }
        return values[k]
    }

    /// The median of non-empty `values` (reorders them).
    public static func median(_ values: inout [Float]) -> Float {
        select(&values, values.count / 2)
    }

    /// The median of non-empty `values` and 1.4826 × the median absolute deviation from it
    /// (reorders `values`, by the median's selection only).
    static func medianAndSigma(_ values: inout [Float]) -> (median: Float, sigma: Double) {
        let middle = median(&values)
        var deviations = values.map { abs($0 - middle) }
        return (middle, madToSigma * Double(median(&deviations)))
    }

    /// The values at the indices passing `keep`, from at most about 2²⁰ evenly spaced indices
    /// (every one of a smaller array), in index order.
    static func sample(_ values: [Float], where keep: (Int) -> Bool) -> [Float] {
        let step = max(1, values.count >> 20)
        var out: [Float] = []
        out.reserveCapacity(values.count / step + 1)
        values.withUnsafeBufferPointer { v in
            var i = 0
            while i < v.count {
                if keep(i) { out.append(v[i]) }
                i += step
            }
        }
        return out
    }

    /// The live values (weight > 0, value finite) of ``sample(_:where:)``'s indices.
    static func liveSample(_ values: [Float], weights: [Float]) -> [Float] {
        values.withUnsafeBufferPointer { v in
            weights.withUnsafeBufferPointer { w in
                sample(values) { w[$0] > 0 && v[$0].isFinite }
            }
        }
    }

    /// A product's SKYLEVEL and SKYNOISE: the median and 1.4826 × MAD of the finite pixels with
    /// confidence (of ``sample(_:where:)``'s indices); (0, 0) when there are none.
    static func skyStatistics(_ pixels: [Float], confidence: [Int16]) -> (level: Double, noise: Double) {
        var values = pixels.withUnsafeBufferPointer { p in
            confidence.withUnsafeBufferPointer { c in
                sample(pixels) { c[$0] > 0 && p[$0].isFinite }
            }
        }
        guard !values.isEmpty else { return (0, 0) }
        let (level, noise) = medianAndSigma(&values)
        return (Double(level), noise)
    }
}
