import FITS
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes a difference image and its confidence map under hidden temporary names beside their
/// final paths (`.NAME.xxxxxxxx.tmp`); ``commit()`` makes both durable and renames them,
/// ``discard()`` removes them. The same protocol as ``StackProductWriter``, whose `append`
/// is tied to SWarp co-adds.
final class DiffProductWriter {
    let image: URL
    let confidence: URL
    let temporaryImage: URL
    let temporaryConfidence: URL
    /// The confidence map's file name as the headers give it (without a trailing `.part`).
    let confidenceName: String
    private var imageFile: FITSFile?
    private var confidenceFile: FITSFile?

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

    private func files() throws(WrapperError) -> (FITSFile, FITSFile) {
        guard let imageFile, let confidenceFile else {
            throw WrapperError(.writeFailed, file: image.path, "the product is already closed")
        }
        return (imageFile, confidenceFile)
    }

    /// The data-less primary HDU of both files, with checksums.
    func writePrimaries(_ header: FITSHeader) throws(WrapperError) {
        let (a, b) = try files()
        for (file, url) in [(a, image), (b, confidence)] {
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
    /// ``writePrimaries(_:)`` with placeholders, so nothing moves) and renews their checksums.
    func updatePrimaries(_ cards: FITSHeader) throws(WrapperError) {
        let (a, b) = try files()
        for (file, url) in [(a, image), (b, confidence)] {
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
        let (imageFile, confidenceFile) = try files()
        do {
            try imageFile.createImage(bitpix: .float32, dimensions: [width, height])
            try imageFile.setKeys(header)
            try imageFile.writePixels(pixels)
            try imageFile.writeChecksum()
        } catch {
            throw WrapperError(.writeFailed, file: image.path, "cannot write HDU \(hdu): \(error)")
        }
        do {
            try confidenceFile.createImage(bitpix: .int16, dimensions: [width, height])
            try confidenceFile.setKeys(confidenceHeader)
            try confidenceFile.writePixels(conf)
            try confidenceFile.writeChecksum()
        } catch {
            throw WrapperError(.writeFailed, file: confidence.path, "cannot write HDU \(hdu): \(error)")
        }
    }

    /// Closes both files, makes them durable and renames them to their final names (the
    /// confidence map first, so a product never names a missing map).
    func commit() throws(WrapperError) {
        let (a, b) = try files()
        imageFile = nil
        confidenceFile = nil
        for (file, url) in [(a, image), (b, confidence)] {
            do {
                try file.close()
            } catch {
                throw WrapperError(.writeFailed, file: url.path, "cannot close the product: \(error)")
            }
        }
        for (temporary, url) in [(temporaryImage, image), (temporaryConfidence, confidence)] {
            if let problem = Self.sync(temporary.path) {
                throw WrapperError(.writeFailed, file: url.path, "cannot sync \(temporary.lastPathComponent): \(problem)")
            }
        }
        guard rename(temporaryConfidence.path, confidence.path) == 0 else {
            throw WrapperError(.writeFailed, file: confidence.path,
                               "cannot rename \(temporaryConfidence.lastPathComponent): \(String(cString: strerror(errno)))")
        }
        guard rename(temporaryImage.path, image.path) == 0 else {
            let problem = String(cString: strerror(errno))
            unlink(confidence.path)
            throw WrapperError(.writeFailed, file: image.path,
                               "cannot rename \(temporaryImage.lastPathComponent): \(problem)")
        }
        for directory in Set([image.deletingLastPathComponent().path, confidence.deletingLastPathComponent().path]) {
            let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if fd >= 0 {
                _ = fsync(fd)
                close(fd)
            }
        }
    }

    /// Closes and removes the temporary files (after a failure).
    func discard() {
        try? imageFile?.close()
        try? confidenceFile?.close()
        imageFile = nil
        confidenceFile = nil
        unlink(temporaryImage.path)
        unlink(temporaryConfidence.path)
    }

    /// Nil on success, else the system's reason.
    private static func sync(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return String(cString: strerror(errno)) }
        defer { close(fd) }
        return fsync(fd) == 0 ? nil : String(cString: strerror(errno))
    }
}
