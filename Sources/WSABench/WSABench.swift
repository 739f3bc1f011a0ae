import ArgumentParser
import Curation

/// Benchmarks, separate from the tests: each prints our figure beside its reference, measured in
/// the same run. `scripts/bench.sh` runs them all on simulated data.
@main
struct WSABench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wsabench",
        abstract: "Measure our FITS and database paths against their references, side by side.",
        version: WSAVersion.current,
        subcommands: [FITSBenchmark.self, CopyBenchmark.self, RPCBenchmark.self, NightBenchmark.self,
                      ProductBenchmark.self, MergeBenchmark.self])
}
