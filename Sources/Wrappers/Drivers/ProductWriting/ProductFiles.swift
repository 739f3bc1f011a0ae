import FITS
import Foundation
import SystemSupport
import AppDriver
#if canImport(Glibc)
import Glibc
#endif

/// A product and its confidence map as two FITS files written under hidden temporary names
/// beside their final paths (`.NAME.xxxxxxxx.tmp`, one tag for both): ``commit()`` makes both
/// durable and renames them (the confidence map first, so a product never names a missing map);
/// ``discard()`` removes them unless they were committed, so a caller defers it. What goes into
/// the HDUs is the caller's: ``StackProductWriter`` builds a stack's or mosaic's, ``DiaDriver``
/// a difference image's.
final class ProductFiles {
    let image: URL
    let confidence: URL
    let temporaryImage: URL
    let temporaryConfidence: URL
    /// The confidence map's file name as the headers give it (without a trailing `.part`).
    let confidenceName: String
    private var imageFile: FITSFile?
    private var confidenceFile: FITSFile?
    private var committed = false

    /// Makes the destination directories and creates both temporary files.
    init(image: URL, confidence: URL) throws(WrapperError) {
        self.image = image
        self.confidence = confidence
        let tag = UUID().uuidString.prefix(8)
        temporaryImage = image.deletingLastPathComponent()
            .appendingPathComponent(".\(image.lastPathComponent).\(tag).tmp")
        temporaryConfidence = confidence.deletingLastPathComponent()
            .appendingPathComponent(".\(confidence.lastPathComponent).\(tag).tmp")
        var name = confidence.lastPathComponent
        if name.hasSuffix(".part") { name = String(name.dropLast(".part".count)) }
        confidenceName = name
        for directory in Set([image.deletingLastPathComponent(), confidence.deletingLastPathComponent()]) {
            do {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            } catch {
                throw WrapperError(.writeFailed, file: image.path,
                                   "cannot make the directory \(directory.path): \(error.localizedDescription)")
            }
        }
        do {
            imageFile = try FITSFile.create(temporaryImage.path, overwrite: true)
            confidenceFile = try FITSFile.create(temporaryConfidence.path, overwrite: true)
        } catch {
            discard()
            throw WrapperError(.writeFailed, file: image.path, "cannot create the product: \(error)")
        }
    }

    /// Both open files with their final paths (for error messages).
    private func files() throws(WrapperError) -> [(file: FITSFile, url: URL)] {
        guard let imageFile, let confidenceFile else {
            throw WrapperError(.writeFailed, file: image.path, "the product is already closed")
        }
        return [(imageFile, image), (confidenceFile, confidence)]
    }

    /// The data-less primary HDU of both files, with checksums.
    func writePrimaries(_ header: FITSHeader) throws(WrapperError) {
        for (file, url) in try files() {
            do {
                try file.createImage(bitpix: .uint8, dimensions: [])
                try file.setKeys(header)
                try file.writeChecksum()
            } catch {
                throw WrapperError(.writeFailed, file: url.path, "cannot write the primary header: \(error)")
            }
        }
    }

    /// Replaces the values of cards already in both primary headers (written by
    /// ``writePrimaries(_:)`` with provisional values, so nothing moves) and renews their checksums.
    func updatePrimaries(_ cards: FITSHeader) throws(WrapperError) {
        for (file, url) in try files() {
            do {
                try file.moveTo(hdu: 1)
                for card in cards.cards {
                    guard let value = card.value else { continue }
                    try file.setKey(card.keyword, value, comment: card.comment)
                }
                try file.writeChecksum()
            } catch {
                throw WrapperError(.writeFailed, file: url.path, "cannot update the primary header: \(error)")
            }
        }
    }

    /// One float32 image extension and its int16 confidence extension, with checksums.
    func append(pixels: [Float], header: FITSHeader, confidence conf: [Int16], confidenceHeader: FITSHeader,
                width: Int, height: Int, hdu: Int) throws(WrapperError) {
        let opened = try files()
        try Self.appendImage(pixels, bitpix: .float32, header: header, width: width, height: height,
                             to: opened[0].file, url: image, hdu: hdu)
        try Self.appendImage(conf, bitpix: .int16, header: confidenceHeader, width: width, height: height,
                             to: opened[1].file, url: confidence, hdu: hdu)
    }

    private static func appendImage<T: FITSNumeric>(_ pixels: [T], bitpix: BitPix, header: FITSHeader, width: Int,
                                                    height: Int, to file: FITSFile, url: URL,
                                                    hdu: Int) throws(WrapperError) {
        do {
            try file.createImage(bitpix: bitpix, dimensions: [width, height])
            try file.setKeys(header)
            try file.writePixels(pixels)
            try file.writeChecksum()
        } catch {
            throw WrapperError(.writeFailed, file: url.path, "cannot write HDU \(hdu): \(error)")
        }
    }

    /// Closes both files, makes them durable (fsync) and renames them to their final names, the
    /// confidence map first; a failed second rename removes the first. The directories are
    /// synced last.
    func commit() throws(WrapperError) {
        let opened = try files()
        imageFile = nil
        confidenceFile = nil
        for (file, url) in opened {
            do {
                try file.close()
            } catch {
                throw WrapperError(.writeFailed, file: url.path, "cannot close the product: \(error)")
            }
        }
        // The confidence map first, so a product never names a missing map; both or neither.
        do {
            for temporary in [temporaryConfidence, temporaryImage] { try AtomicFile.sync(temporary.path) }
            try AtomicFile.commit([(temporaryConfidence.path, confidence.path), (temporaryImage.path, image.path)])
        } catch {
            throw WrapperError(.writeFailed, file: image.path, "cannot commit the product: \(error)")
        }
        committed = true
    }

    /// Closes and removes the temporary files, unless ``commit()`` succeeded (so it can be
    /// deferred: it cleans up after any failure, a failed commit included).
    func discard() {
        guard !committed else { return }
        try? imageFile?.close()
        try? confidenceFile?.close()
        imageFile = nil
        confidenceFile = nil
        unlink(temporaryImage.path)
        unlink(temporaryConfidence.path)
    }
}
