import Foundation
import SystemSupport

/// Damaged copies of a night's good files, made by a seeded generator (the tests keep the
/// generator, not the files). Each mutant is a copy of one good frame set (image, confidence
/// map, catalogue) under a new frame number, with one of the three files damaged in one way:
/// byte flips in a header or in the (compressed) data, a truncation at a random offset, a
/// zeroed 2880-byte block, or an impossible value in a structural or WCS keyword.
struct MutantFiles {
    enum Mutation: String, CaseIterable {
        case headerFlips = "header byte flips"
        case dataFlips = "data byte flips"
        case truncation = "truncated"
        case zeroedBlock = "zeroed block"
        case impossibleValue = "impossible value"
    }

    struct Mutant {
        /// Delivered names of the copied set; `damaged` is the one that was mutated.
        var files: [String]
        var damaged: String
        var mutation: Mutation
        var detail: String
    }

    /// Keywords given impossible values, with the values tried.
    static let impossible: [(keyword: String, values: [String])] = [
        ("NAXIS1", ["-7", "0", "99999999999"]), ("NAXIS2", ["-1", "4000000000"]),
        ("ZNAXIS1", ["-256", "0", "2147483647"]), ("ZNAXIS2", ["-3", "99999999"]),
        ("BITPIX", ["7", "0", "'abc'"]), ("ZBITPIX", ["13", "-8", "64"]),
        ("TFIELDS", ["999", "-1", "0"]), ("TFORM1", ["'9Q'", "'XYZ'", "'-1E'"]), ("TFORM2", ["'1Z'", "'E99999999'"]),
        ("PCOUNT", ["-1", "99999999999"]), ("CRPIX1", ["1.0E+999", "'centre'"]), ("CRPIX2", ["NAN", "-1.0E+308"]),
        ("PV2_1", ["1.0E+300"]), ("PV2_3", ["-1.0E+308", "'many'"]),
    ]

    /// Writes `count` mutants of the frame sets `images` (delivered image names in `night`)
    /// into `night`, and appends them to its COMPLETE marker.
    static func make(in night: URL, from images: [String], count: Int, seed: UInt64) throws -> [Mutant] {
        var random = SplitMix64(seed: seed)
        var mutants: [Mutant] = [], complete = ""
        for i in 0..<count {
            let image = images[Int(random.next() % UInt64(images.count))]
            let frame = String(image.prefix(15))  // w20051012_00001
            let copy = String(frame.prefix(10)) + String(format: "%05d", 60000 + i)
            let names = [image, image.replacingOccurrences(of: ".fit", with: "_conf.fit"),
                         image.replacingOccurrences(of: ".fit", with: "_cat.fits")]
            let which = [0, 0, 0, 1, 2, 2][Int(random.next() % 6)]
            let mutation = Mutation.allCases[Int(random.next() % UInt64(Mutation.allCases.count))]
            var mutant = Mutant(files: [], damaged: "", mutation: mutation, detail: "")
            for (k, name) in names.enumerated() {
                var bytes = [UInt8](try Data(contentsOf: night.appendingPathComponent(name)))
                let headers = headerRanges(bytes)
                rename(&bytes, headers: headers, from: frame, to: copy)
                let newName = name.replacingOccurrences(of: frame, with: copy)
                if k == which {
                    mutant.detail = mutate(&bytes, headers: headers, mutation, &random)
                    mutant.damaged = newName
                }
                try Data(bytes).write(to: night.appendingPathComponent(newName))
                mutant.files.append(newName)
                complete += "\(newName) \(bytes.count)\n"
            }
            mutants.append(mutant)
        }
        let marker = night.appendingPathComponent("COMPLETE")
        let text = try String(contentsOf: marker, encoding: .utf8) + complete
        try text.write(to: marker, atomically: true, encoding: .utf8)
        return mutants
    }

    /// The byte ranges of the headers (each from its first card to the end of its END block).
    static func headerRanges(_ bytes: [UInt8]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var block = 0
        while block + 2880 <= bytes.count {
            let start = String(decoding: bytes[block..<block + 9], as: UTF8.self)
            guard start == "SIMPLE  =" || start == "XTENSION=" else { block += 2880; continue }
            var card = block
            while card + 80 <= bytes.count, String(decoding: bytes[card..<card + 8], as: UTF8.self) != "END     " { card += 80 }
            let end = min(bytes.count, (card / 2880 + 1) * 2880)
            ranges.append(block..<end)
            block = end
        }
        return ranges
    }

    static func rename(_ bytes: inout [UInt8], headers: [Range<Int>], from: String, to: String) {
        let old = Array(from.utf8), new = Array(to.utf8)
        for range in headers {
            var i = range.lowerBound
            while i + old.count <= range.upperBound {
                if Array(bytes[i..<i + old.count]) == old { bytes.replaceSubrange(i..<i + old.count, with: new) }
                i += 1
            }
        }
    }

    /// Damages `bytes`; returns what was done.
    static func mutate(_ bytes: inout [UInt8], headers: [Range<Int>], _ mutation: Mutation,
                       _ random: inout SplitMix64) -> String {
        func pick(_ n: Int) -> Int { Int(random.next() % UInt64(max(1, n))) }
        switch mutation {
        case .headerFlips:
            let range = headers[pick(headers.count)]
            let n = 1 + pick(4)
            for _ in 0..<n { bytes[range.lowerBound + pick(range.count)] ^= UInt8(1 + pick(255)) }
            return "\(n) byte(s) flipped in the header at \(range.lowerBound)"
        case .dataFlips:
            let inHeader = { (i: Int) in headers.contains { $0.contains(i) } }
            let n = 1 + pick(16)
            var flipped = 0
            for _ in 0..<200 where flipped < n {
                let i = pick(bytes.count)
                if !inHeader(i) { bytes[i] ^= UInt8(1 + pick(255)); flipped += 1 }
            }
            return "\(flipped) byte(s) flipped in the data"
        case .truncation:
            let at = 1 + pick(bytes.count - 1)
            bytes.removeSubrange(at...)
            return "truncated at \(at) of \(bytes.count)"
        case .zeroedBlock:
            let block = pick(bytes.count / 2880)
            for i in block * 2880..<min(bytes.count, (block + 1) * 2880) { bytes[i] = 0 }
            return "block \(block) zeroed"
        case .impossibleValue:
            var present: [(card: Int, keyword: String, values: [String])] = []
            for range in headers {
                for card in stride(from: range.lowerBound, to: range.upperBound, by: 80) {
                    let key = String(decoding: bytes[card..<card + 8], as: UTF8.self).trimmingCharacters(in: .whitespaces)
                    if let entry = impossible.first(where: { $0.keyword == key }) { present.append((card, key, entry.values)) }
                }
            }
            guard !present.isEmpty else { return mutate(&bytes, headers: headers, .zeroedBlock, &random) }
            let target = present[pick(present.count)]
            let value = target.values[pick(target.values.count)]
            let field = value.hasPrefix("'") ? value.padding(toLength: 20, withPad: " ", startingAt: 0)
                                             : String(repeating: " ", count: max(0, 20 - value.count)) + value
            bytes.replaceSubrange(target.card + 10..<target.card + 30, with: Array(field.utf8))
            return "\(target.keyword) = \(value)"
        }
    }
}
