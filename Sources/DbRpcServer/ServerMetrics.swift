import Foundation
import LoadServer
import Prometheus
import RPCContract

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
        rowsLoaded = registry.makeCounter(descriptor: Self.name("rows_loaded", "total",
                                                                     "Rows copied into the database by loadTransactionData."))
        bytesLoaded = registry.makeCounter(descriptor: Self.name("bytes_loaded", "total",
                                                                      "Bytes of transaction files copied into the database."))
        loads = registry.makeCounter(descriptor: Self.name("loads", "total",
                                                                "Transaction files loaded (not counting repeats of a file already loaded)."))
        loadSeconds = registry.makeDurationHistogram(
            descriptor: Self.name("load", "seconds", "Seconds per transaction file load (verification and COPY)."),
            buckets: [.milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(500),
                      .seconds(1), .seconds(5), .seconds(30), .seconds(120)])
        leaseHeld = registry.makeGauge(descriptor: Self.name("lease_held", "",
                                                                  "1 while a holder has the write lease (not expired), else 0."))
        leaseToken = registry.makeGauge(descriptor: Self.name("lease_token", "",
                                                                   "The fencing token of the latest grant of the write lease."))
        openRuns = registry.makeGauge(descriptor: Self.name("open_runs", "", "Runs (steps) open now."))
        var refusals: [String: Counter] = [:]
        for reason in ["unauthorized", "too_large", "doctype", "bad_request"] {
            refusals[reason] = registry.makeCounter(descriptor: Self.name("http_refused", "total",
                                                                               "HTTP requests refused before any method ran."),
                                                    labels: [("reason", reason)])
        }
        httpRefusals = refusals
    }

    func call(_ method: String, faultCode: Int?) {
        registry.makeCounter(descriptor: Self.name("calls", "total", "XML-RPC calls by method."),
                             labels: [("method", method)]).increment()
        if let faultCode {
            registry.makeCounter(descriptor: Self.name("errors", "total",
                                                             "XML-RPC calls that ended in a fault, by method and fault code."),
                                 labels: [("method", method), ("code", String(faultCode))]).increment()
        }
    }

    /// `dbrpc_<name>_<unit>` with its help text.
    static func name(_ name: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "dbrpc", metricName: name, unitName: unit, helpText: help)
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
