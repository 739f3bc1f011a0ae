import Foundation
import LoadServer
import Prometheus

/// The server's Prometheus metrics: calls and errors by method, rows and seconds loaded, and
/// the lease and open runs read at each scrape.
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let rowsLoaded: Counter
    private let bytesLoaded: Counter
    private let loads: Counter
    private let loadSeconds: DurationHistogram
    private let leaseHeld: Gauge
    private let leaseToken: Gauge
    private let openRuns: Gauge
    private let httpRefusals: [String: Counter]

    init() {
        rowsLoaded = registry.makeCounter(name: "dbrpc_rows_loaded_total",
                                          help: "Rows copied into the database by loadTransactionData.")
        bytesLoaded = registry.makeCounter(name: "dbrpc_bytes_loaded_total",
                                           help: "Bytes of transaction files copied into the database.")
        loads = registry.makeCounter(name: "dbrpc_loads_total",
                                     help: "Transaction files loaded (not counting repeats of a file already loaded).")
        loadSeconds = registry.makeDurationHistogram(
            name: "dbrpc_load_seconds",
            buckets: [.milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(500),
                      .seconds(1), .seconds(5), .seconds(30), .seconds(120)],
            help: "Seconds per transaction file load (verification and COPY).")
        leaseHeld = registry.makeGauge(name: "dbrpc_lease_held",
                                       help: "1 while a holder has the write lease (not expired), else 0.")
        leaseToken = registry.makeGauge(name: "dbrpc_lease_token",
                                        help: "The fencing token of the latest grant of the write lease.")
        openRuns = registry.makeGauge(name: "dbrpc_open_runs", help: "Runs (steps) open now.")
        var refusals: [String: Counter] = [:]
        for reason in ["unauthorized", "too_large", "doctype", "bad_request"] {
            refusals[reason] = registry.makeCounter(name: "dbrpc_http_refused_total", labels: [("reason", reason)],
                                                    help: "HTTP requests refused before any method ran.")
        }
        httpRefusals = refusals
    }

    func call(_ method: String, faultCode: Int?) {
        registry.makeCounter(name: "dbrpc_calls_total", labels: [("method", method)],
                             help: "XML-RPC calls by method.").increment()
        if let faultCode {
            registry.makeCounter(name: "dbrpc_errors_total", labels: [("method", method), ("code", String(faultCode))],
                                 help: "XML-RPC calls that ended in a fault, by method and fault code.").increment()
        }
    }

    func refused(_ reason: String) { httpRefusals[reason]?.increment() }

    func observe(_ load: LoadObservation) {
        guard !load.alreadyLoaded else { return }
        loads.increment()
        rowsLoaded.increment(by: Int64(load.rows))
        bytesLoaded.increment(by: Int64(load.bytes))
        loadSeconds.recordNanoseconds(Int64(load.seconds * 1e9))
    }

    /// Refreshes the gauges that are read, not counted, and renders everything.
    func render(lease: LeaseStatus?, openRunCount: Int) -> [UInt8] {
        if let lease {
            leaseHeld.set(to: lease.state == .held ? 1.0 : 0.0)
            leaseToken.set(to: Double(lease.token))
        }
        openRuns.set(to: Double(openRunCount))
        return registry.emitToBuffer()
    }
}
