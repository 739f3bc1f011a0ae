import CJPEG
import Foundation

/// Encodes 8-bit greyscale images as baseline JPEG in memory with libjpeg(-turbo).
///
/// libjpeg reports errors through `error_exit`, which must not return, and Swift cannot
/// `longjmp` out of it. So every condition libjpeg would refuse (dimensions, buffer size,
/// quality) is checked here first, and the output goes to memory (`jpeg_mem_dest`), never to a
/// file that could fail half-way. What is left for `error_exit` is libjpeg running out of memory,
/// which ends the process with libjpeg's message as any other allocation failure in Swift
/// does; it never calls `exit()`. Warnings are counted, not printed.
package enum JPEGWriter {
    /// Why an image could not be encoded.
    package struct Failure: Error, Sendable, Equatable {
        package var message: String
    }

    /// The largest side libjpeg accepts (`JPEG_MAX_DIMENSION`).
    static let maximumSide = 65500

    /// Row-major greyscale `pixels` (row 0 at the top), `width` × `height`, at `quality` 1…100.
    package static func encode(grey pixels: [UInt8], width: Int, height: Int, quality: Int) throws(Failure) -> [UInt8] {
        guard width >= 1, height >= 1, width <= maximumSide, height <= maximumSide else {
            throw Failure(message: "a JPEG cannot be \(width)×\(height) pixels (1…\(maximumSide) per side)")
        }
        guard pixels.count == width * height else {
            throw Failure(message: "\(pixels.count) pixels given for a \(width)×\(height) image")
        }
        guard (1...100).contains(quality) else {
            throw Failure(message: "JPEG quality \(quality) is outside 1…100")
        }
        return compress(pixels, width: width, height: height, quality: Int32(quality))
    }

    private static func compress(_ pixels: [UInt8], width: Int, height: Int, quality: Int32) -> [UInt8] {
        // libjpeg keeps pointers to these until it is destroyed: give them stable addresses.
        let cinfo = UnsafeMutablePointer<jpeg_compress_struct>.allocate(capacity: 1)
        let errors = UnsafeMutablePointer<jpeg_error_mgr>.allocate(capacity: 1)
        let output = UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>.allocate(capacity: 1)
        let outputSize = UnsafeMutablePointer<UInt>.allocate(capacity: 1)
        output.initialize(to: nil)
        outputSize.initialize(to: 0)
        defer {
            jpeg_destroy_compress(cinfo)
            free(output.pointee)
            cinfo.deallocate()
            errors.deallocate()
            output.deallocate()
            outputSize.deallocate()
        }

        cinfo.initialize(to: jpeg_compress_struct())
        errors.initialize(to: jpeg_error_mgr())
        cinfo.pointee.err = jpeg_std_error(errors)
        errors.pointee.error_exit = { common in
            var text = [CChar](repeating: 0, count: Int(JMSG_LENGTH_MAX))
            if let common, let format = common.pointee.err.pointee.format_message {
                format(common, &text)
            }
            let message = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            fatalError("libjpeg failed on checked input (out of memory?): \(message)")
        }
        errors.pointee.output_message = { _ in }

        jpeg_CreateCompress(cinfo, JPEG_LIB_VERSION, MemoryLayout<jpeg_compress_struct>.size)
        jpeg_mem_dest(cinfo, output, outputSize)
        cinfo.pointee.image_width = JDIMENSION(width)
        cinfo.pointee.image_height = JDIMENSION(height)
        cinfo.pointee.input_components = 1
        cinfo.pointee.in_color_space = JCS_GRAYSCALE
        jpeg_set_defaults(cinfo)
        jpeg_set_quality(cinfo, quality, 1)
        cinfo.pointee.optimize_coding = 1
        jpeg_start_compress(cinfo, 1)
        pixels.withUnsafeBufferPointer { buffer in
            let base = UnsafeMutablePointer(mutating: buffer.baseAddress!)
            var rows: [JSAMPROW?] = (0..<height).map { base + $0 * width }
            var written = 0
            while written < height {
                let done = rows.withUnsafeMutableBufferPointer {
                    jpeg_write_scanlines(cinfo, $0.baseAddress! + written, JDIMENSION(height - written))
                }
                guard done > 0 else { break }
                written += Int(done)
            }
        }
        jpeg_finish_compress(cinfo)
        guard let bytes = output.pointee else { return [] }
        return Array(UnsafeBufferPointer(start: bytes, count: Int(outputSize.pointee)))
    }
}
