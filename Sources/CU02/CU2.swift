public import ArgumentParser
import Wrappers

/// CU2: create library compressed image frame products (seed 004 §7).
@main
struct CU2: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cu2",
        abstract: "Make the JPEG library images of newly transferred frames.",
        discussion: """
            For every current image file in TransferLog without JPEGs (per programme): a JPEG of \
            each image extension, north up and east left as its WCS says, with a robust \
            astronomical stretch, and a thumbnail, each written atomically under [paths] jpeg; \
            the paths are recorded (CompressedImage) for CU3. Extensions are compressed on all \
            cores. A file that cannot be read is reported, quarantined and skipped.
            Exit status: 0 done (bad files are counted in the summary), 1 failure, 64 bad usage.
            """,
        version: curationVersion)

    @OptionGroup var options: CUOptions

    @Option(help: "JPEG quality, 1-100.")
    var quality = 90

    @Option(help: "Longest side of a thumbnail, pixels.")
    var thumbnailSize = 256

    @Option(help: "Stretch: zscale or asinh.")
    var stretch: Stretch = .zscale

    @Option(help: "Frames recorded per atomic step.")
    var framesPerStep = 50

    func validate() throws {
        guard (1...100).contains(quality) else { throw ValidationError("--quality must be 1 to 100") }
        guard thumbnailSize >= 16 else { throw ValidationError("--thumbnail-size must be at least 16") }
    }

    func run() async throws {
        var compressOptions = CompressOptions()
        compressOptions.quality = quality
        compressOptions.thumbnailSize = thumbnailSize
        compressOptions.stretch = stretch
        try await CUContext.run(program: "cu2", cuID: 2, options: options) { [compressOptions, framesPerStep] ctx in
            var frames = 0, images = 0, bad = 0
            let found = try await ctx.forEachProgramme({ try ctx.query.framesToCompress(programmeID: $0.programmeID) },
                                                       describe: { "compress \($0.fileName)" }) { programme, pending in
                for batch in CUContext.batches(pending, of: framesPerStep) {
                    var made: [CompressionRecord] = []
                    var quarantine: [QuarantineRecord] = []
                    for frame in batch {
                        do {
                            let layout = ctx.layout
                            let results = try CompressHandler.compressAll(frame.fileName, jpegs: { hdu in
                                layout.jpegPaths(forArchived: frame.fileName, hdu: hdu)
                            }, options: compressOptions)
                            made += results.map { CompressionRecord($0, transferID: frame.transferID) }
                            frames += 1
                            images += results.count
                        } catch where CUContext.isBadInput(error) {
                            ctx.reportBadFile(error, file: frame.fileName)
                            quarantine.append(ctx.quarantineRecord(frame, reason: error))
                        }
                        ctx.workDone()
                    }
                    try await ctx.step(programme: programme.name) { db, step in
                        try await db.logCompressedImages(made, in: step)
                        try await db.logQuarantine(quarantine, in: step)
                    }
                    try ctx.moveQuarantined(quarantine)
                    bad += quarantine.count
                }
            }
            let verb = ctx.options.dryRun ? "would compress" : "compressed"
            return "cu2: \(verb) \(ctx.options.dryRun ? found : frames) frame(s) into \(images) JPEG(s) (and thumbnails); \(bad) bad file(s) quarantined"
        }
    }
}

extension Stretch: ExpressibleByArgument {}
