import ArgumentParser
import Curation
import Foundation
import Hummingbird
import HummingbirdTLS
import LoadServer
import Logging
import NIOCore
import NIOSSL
import XMLRPC
import UnixSignals
import SystemSupport

enum ServeSupport {
    /// The directory of this executable: where the curation programs are installed too.
    static var programDirectory: URL { ProgramLocation.directory }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}

extension DbRpcServer {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve XML-RPC (the default subcommand).",
            discussion: """
                Checks its prerequisites first (users file, spool writable, database reachable, \
                q3c installed, schema migrated, no other server on this database) and says in \
                one line what is missing. Listens on loopback unless told otherwise; anything \
                else needs TLS ([rpc] tls_certificate and tls_key).

                Example: dbrpcserver serve --config /etc/wsa/wsa.toml --port 8765
                """)

        @OptionGroup var options: CommonOptions

        @Option(name: .customLong("listen-host"), help: "Address to listen on (default: [rpc] listen_host).")
        var listenHost: String?

        @Option(help: "TCP port (default: [rpc] listen_port; 0 picks a free one).")
        var port: Int?

        @Option(name: .customLong("users-file"), help: ArgumentHelp("The users file (default: [rpc] users_file).", valueName: "file"))
        var usersFile: String?

        @Option(name: .customLong("port-file"), help: ArgumentHelp("Write the port listened on to this file once serving.", valueName: "file"))
        var portFile: String?

        @Option(name: .customLong("lease-seconds"), help: "Default lease TTL in seconds (default: [rpc] lease_seconds).")
        var leaseSeconds: Double?

        @Option(name: .customLong("max-upload-bytes"), help: "Largest transaction file upload accepted.")
        var maxUploadBytes = 8 << 30

        @Flag(help: "Check the prerequisites, print what was found, and exit.")
        var check = false

        func run() async throws {
            var config = try options.load()
            if let listenHost { config.rpc.listenHost = listenHost }
            if let port { config.rpc.listenPort = port }
            if let usersFile { config.rpc.usersFile = usersFile }
            try await reportingFailure(config) { logger in try await serve(config, logger) }
        }

        private func serve(_ config: WSAConfig, _ logger: Logger) async throws {
            let tls = try tlsConfiguration(config)
            guard tls != nil || ServeSupport.isLoopback(config.rpc.listenHost) else {
                throw ValidationError("refusing to serve HTTP Basic credentials in clear text on \(config.rpc.listenHost): set [rpc] tls_certificate and tls_key, or listen on loopback")
            }
            let authenticator: Authenticator
            do {
                authenticator = try Authenticator(path: config.rpc.usersFile)
            } catch {
                throw ValidationError("users file \(config.rpc.usersFile): \(error) (make a line with `dbrpcserver hash-secret --user NAME --role curator`)")
            }
            guard !authenticator.users.isEmpty else {
                throw ValidationError("users file \(config.rpc.usersFile) has no users (make one with `dbrpcserver hash-secret`)")
            }
            let metrics = ServerMetrics()
            var serviceConfig = CurationService.Configuration(
                conninfo: config.database.url, spool: URL(fileURLWithPath: config.paths.spool, isDirectory: true))
            serviceConfig.defaultLeaseTTL = .seconds(leaseSeconds ?? Double(config.rpc.leaseSeconds))
            let service = CurationService(configuration: serviceConfig, logger: logger,
                                          observer: { metrics.observe($0) })
            try await service.start()
            if check {
                print("dbrpcserver: ready: users file \(config.rpc.usersFile) (\(authenticator.users.count) user(s)), "
                      + "spool \(service.transactionDirectory.path), database \(WSAConfig.redact(conninfo: config.database.url)), q3c and schema present")
                await service.shutdown(reason: "the check finished")
                return
            }
            let resumer = RunResumer(programDirectory: ServeSupport.programDirectory,
                                     outputDirectory: URL(fileURLWithPath: config.paths.log, isDirectory: true))
            let limits = XMLRPCLimits(maximumBodyBytes: config.rpc.maxBodyBytes)
            let routes = RPCRoutes(service: service,
                                   registry: LoadServerMethods.registry(service: service, resumer: resumer, limits: limits),
                                   authenticator: authenticator, metrics: metrics,
                                   maxBodyBytes: config.rpc.maxBodyBytes, maxUploadBytes: maxUploadBytes,
                                   logger: logger)
            let router = Router(context: BasicRequestContext.self)
            routes.install(on: router)
            let host = config.rpc.listenHost
            let portFile = self.portFile
            let scheme = tls == nil ? "http" : "https"
            let app = Application(
                router: router,
                server: try tls.map { try .tls(.http1(), tlsConfiguration: $0) } ?? .http1(),
                configuration: .init(address: .hostname(host, port: config.rpc.listenPort),
                                     serverName: "dbrpcserver/\(WSAVersion.current)"),
                onServerRunning: { channel in
                    let port = channel.localAddress?.port ?? config.rpc.listenPort
                    logger.notice("dbrpcserver \(WSAVersion.current) serving \(scheme)://\(host):\(port)/RPC2 (pid \(getpid()))")
                    if let portFile {
                        try? AtomicFile.write(Array("\(port)\n".utf8), to: portFile)
                    }
                },
                logger: logger)
            do {
                try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
            } catch {
                await service.shutdown(reason: "the load server failed (\(error))")
                throw error
            }
            await service.shutdown()
            logger.notice("dbrpcserver stopped cleanly")
        }

        private func tlsConfiguration(_ config: WSAConfig) throws -> TLSConfiguration? {
            switch (config.rpc.tlsCertificate, config.rpc.tlsKey) {
            case (nil, nil):
                return nil
            case (let certificate?, let key?):
                do {
                    let chain = try NIOSSLCertificate.fromPEMFile(certificate).map { NIOSSLCertificateSource.certificate($0) }
                    let privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
                    return TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(privateKey))
                } catch {
                    throw ValidationError("cannot read the TLS certificate \(certificate) or key \(key): \(error)")
                }
            default:
                throw ValidationError("set both [rpc] tls_certificate and tls_key, or neither")
            }
        }
    }
}
