public import Foundation

/// `python3 -m http.server` on a free loopback port: a real static server with directory
/// listings, as a delivery area.
public enum StaticHTTPServer {
    /// Starts a server for `directory` (its log goes to `log`); returns it and its base URL.
    public static func start(serving directory: URL, log: String) throws -> (BackgroundProcess, URL) {
        let server = try BackgroundProcess(TestEnvironment.python,
                                           ["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", directory.path],
                                           outputFile: log)
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            let output = server.output
            if let range = output.range(of: "Serving HTTP on 127.0.0.1 port ") {
                let port = output[range.upperBound...].prefix { $0.isNumber }
                if !port.isEmpty, let url = URL(string: "http://127.0.0.1:\(port)/") { return (server, url) }
            }
            guard server.isRunning else { break }
            usleep(50_000)
        }
        server.signal(SIGKILL)
        _ = server.wait()
        throw PythonError(message: "python3 -m http.server did not start: \(server.output)")
    }
}
