import Curation
import Foundation
import Testing
@testable import WrapperCore
@testable import AppDriver
@testable import Drivers
#if canImport(Glibc)
import Glibc
#endif

/// Finding tools: config paths, PATH, and the one-line message when a tool is missing.
@Suite struct AppDriverToolTests {
    @Test func missingToolNamesTheDebianPackage() async throws {
        let scratch = try Scratch()
        let driver = AppDriver()
        let emptyPath = ["PATH": scratch.path]
        let cases: [(tool: String, message: String)] = [
            ("SWarp", "SWarp not found on PATH: install the Debian package swarp (apt-get install swarp), or set tools.swarp in the config"),
            ("fpack", "fpack not found on PATH: install the Debian package libcfitsio-bin (apt-get install libcfitsio-bin), or set tools.fpack in the config"),
            ("funpack", "funpack not found on PATH: install the Debian package libcfitsio-bin (apt-get install libcfitsio-bin), or set tools.funpack in the config"),
            ("psql", "psql not found on PATH: install the Debian package postgresql-client-15 (apt-get install postgresql-client-15), or set tools.psql in the config"),
            ("djpeg", "djpeg not found on PATH: install the Debian package libjpeg-turbo-progs (apt-get install libjpeg-turbo-progs), or set tools.djpeg in the config"),
            ("wsa-no-such-tool", "wsa-no-such-tool not found on PATH: install it or set tools.wsa_no_such_tool in the config"),
        ]
        for (tool, message) in cases {
            do throws(WrapperError) {
                let result = try await driver.run(tool, environment: emptyPath)
                Issue.record("\(tool) ran: \(result.commandLine)")
            } catch {
                #expect(error.code == .toolMissing)
                #expect(error.tool == tool)
                #expect(error.description == message)
                #expect(!error.description.contains("\n"))
            }
        }
    }

    @Test func missingConfiguredPathNamesTheSettingAndPackage() throws {
        let driver = AppDriver(toolPaths: ["source_extractor": "/nonexistent/bin/source-extractor"])
        let error = try #require(driver.missingTools(["source-extractor", "/bin/true"]).first)
        #expect(driver.missingTools(["source-extractor", "/bin/true"]).count == 1)
        #expect(error.code == .toolMissing)
        #expect(error.description == "source-extractor not found at /nonexistent/bin/source-extractor (tools.source_extractor in the config): install the Debian package source-extractor (apt-get install source-extractor), or set tools.source_extractor in the config")
    }

    @Test func configPathOverridesPATH() async throws {
        let scratch = try Scratch()
        let configured = try scratch.script("a/my-tool", "echo config")
        try scratch.script("b/my-tool", "echo path")
        try scratch.script("b/renamed-tool", "echo renamed")
        let environment = ["PATH": scratch.file("b") + ":/usr/bin:/bin"]

        let plain = try await AppDriver(toolPaths: [:]).run("my-tool", environment: environment)
        #expect(plain.stdoutText == "path\n")

        let byPath = try await AppDriver(toolPaths: ["my_tool": configured]).run("my-tool", environment: environment)
        #expect(byPath.stdoutText == "config\n")
        #expect(byPath.executable == configured)

        let byName = try await AppDriver(toolPaths: ["my_tool": "renamed-tool"]).run("my-tool", environment: environment)
        #expect(byName.stdoutText == "renamed\n")
    }

    @Test func driverFromConfigUsesItsToolsSection() throws {
        var config = WSAConfigFixture.config()
        config.tools.paths["gzip"] = "/nonexistent/gzip"
        let error = try #require(AppDriver(config: config).missingTools(["gzip"]).first)
        #expect(error.description.hasPrefix("gzip not found at /nonexistent/gzip (tools.gzip in the config): install the Debian package gzip"))
    }

    @Test func nonExecutableFileIsNotATool() throws {
        let scratch = try Scratch()
        try "data".write(toFile: scratch.file("plain"), atomically: true, encoding: .utf8)
        #expect(throws: WrapperError.self) { try AppDriver().locate(scratch.file("plain")) }
    }

    @Test func badInterpreterIsASpawnFailure() async throws {
        let scratch = try Scratch()
        let path = scratch.file("broken")
        try "#!/nonexistent/interpreter\n".write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        await #expect(throws: WrapperError.self) { try await AppDriver().run(path) }
        do throws(WrapperError) {
            _ = try await AppDriver().run(path)
        } catch {
            #expect(error.code == .spawnFailed)
            #expect(error.description.hasPrefix("cannot start \(path) (\(path)): "))
        }
    }

    @Test func missingWorkingDirectoryAndInputFile() async throws {
        let scratch = try Scratch()
        do throws(WrapperError) {
            _ = try await AppDriver().run("/bin/true", workingDirectory: scratch.file("nowhere"))
            Issue.record("ran in a missing directory")
        } catch {
            #expect(error.code == .spawnFailed)
            #expect(error.description.contains("working directory"))
        }
        do throws(WrapperError) {
            _ = try await AppDriver().run("/bin/cat", input: .file(scratch.file("absent.txt")))
            Issue.record("ran with a missing input file")
        } catch {
            #expect(error.code == .redirectFailed)
            #expect(error.description == "cannot open input file \(scratch.file("absent.txt")) for /bin/cat: No such file or directory")
        }
    }

    @Test(.enabled(if: AppDriver().missingTools(["fitsverify"]).isEmpty, "fitsverify is installed"))
    func realFitsverify() async throws {
        let scratch = try Scratch()
        let good = scratch.file("good.fits")
        try MinimalFITS.image().write(to: URL(fileURLWithPath: good))
        let driver = AppDriver()
        let result = try await driver.run("fitsverify", arguments: ["-q", good], timeout: .seconds(60))
            .checkSuccess()
        #expect(result.stdoutText.contains("verification OK"), "\(result.stdoutText)")

        let truncated = scratch.file("truncated.fits")
        try MinimalFITS.image().prefix(2880 + 100).write(to: URL(fileURLWithPath: truncated))
        let bad = try await driver.run("fitsverify", arguments: ["-q", truncated], timeout: .seconds(60))
        #expect(bad.stdoutText.contains("verification FAILED"), "\(bad.stdoutText)")
    }

    @Test(.enabled(if: AppDriver().missingTools(["SWarp", "source-extractor"]).isEmpty,
                   "SWarp and source-extractor are installed"))
    func debianAstromaticToolsByTheirDefaultNames() async throws {
        let scratch = try Scratch()
        let driver = AppDriver()
        for tool in ["SWarp", "swarp", "source-extractor"] {
            let result = try await driver.run(tool, arguments: ["-v"], timeout: .seconds(60)).checkSuccess()
            #expect(result.stdoutText.contains("version"), "\(tool): \(result.stdoutText)")
        }
        let missing = scratch.file("missing.fits")
        let failed = try await driver.run("SWarp", arguments: [missing], workingDirectory: scratch.path,
                                          timeout: .seconds(60))
        #expect(failed.failure?.code == .failed)
        #expect(failed.failure?.description == "SWarp failed: exit code 1: *Error*: \(missing) not found")
    }
}

/// A small valid FITS file: a 4×3 16-bit image in the primary HDU.
enum MinimalFITS {
    static func image() -> Data {
        let cards = [
            "SIMPLE  =                    T / conforms to FITS standard",
            "BITPIX  =                   16 / bits per data value",
            "NAXIS   =                    2 / number of axes",
            "NAXIS1  =                    4",
            "NAXIS2  =                    3",
            "END",
        ]
        var header = cards.map { $0.padding(toLength: 80, withPad: " ", startingAt: 0) }.joined()
        header = header.padding(toLength: 2880, withPad: " ", startingAt: 0)
        var data = Data(header.utf8)
        var pixels = Data()
        for value in 0..<12 {
            let v = Int16(value * 100)
            pixels.append(UInt8(truncatingIfNeeded: v >> 8))
            pixels.append(UInt8(truncatingIfNeeded: v))
        }
        pixels.append(Data(count: 2880 - pixels.count))
        data.append(pixels)
        return data
    }
}

/// A config with its defaults, made relative to a scratch directory.
enum WSAConfigFixture {
    static func config() -> WSAConfig { WSAConfig(currentDirectory: NSTemporaryDirectory()) }
}
