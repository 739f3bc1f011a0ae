import Foundation
import SystemSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A byte stream to an SMTP server. ``TCPTransport`` is plain TCP; a TLS transport (SMTPS, or
/// STARTTLS upgrading an open TCP transport) can implement the same protocol without changing
/// ``SMTPClient``'s dialogue.
protocol SMTPTransport: AnyObject {
    /// Sends all bytes or throws.
    func send(_ bytes: [UInt8]) throws
    /// Receives some bytes (at least one) or throws; throws at end of stream.
    func receive() throws -> [UInt8]
    /// Closes the connection.
    func close()
}

/// Lets another thread abort an SMTP exchange in progress (used when a program stops).
public final class SMTPAbortHandle: Sendable {
    private let state = Locked<(aborted: Bool, fd: Int32)>((false, -1))

    public init() {}

    /// Aborts the current and every later exchange that uses this handle.
    public func abort() {
        state.withLock { state in
            state.aborted = true
            if state.fd >= 0 { _ = shutdown(state.fd, Int32(SHUT_RDWR)) }
        }
    }

    /// True once ``abort()`` was called.
    public var isAborted: Bool { state.withLock { $0.aborted } }

    func register(_ fd: Int32) -> Bool {
        state.withLock { state in
            state.fd = fd
            return !state.aborted
        }
    }

    func unregister() { state.withLock { $0.fd = -1 } }
}

/// Plain TCP over POSIX sockets with a timeout on every step (connect, each send and receive).
final class TCPTransport: SMTPTransport {
    private var fd: Int32 = -1
    private let timeout: Double
    private let abortHandle: SMTPAbortHandle?
    /// `host:port`, for messages.
    let peer: String

    /// Resolves `host` and connects to the first address that answers within `timeout` seconds.
    init(host: String, port: Int, timeout: Double, abort: SMTPAbortHandle?) throws {
        self.timeout = timeout
        self.abortHandle = abort
        self.peer = "\(host):\(port)"
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>? = nil
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            let text = String(cString: gai_strerror(status))
            throw CurationError(.smtpConnection, "SMTP server \(peer): cannot resolve host: \(text)")
        }
        defer { freeaddrinfo(list) }
        var lastError = CurationError(.smtpConnection, "SMTP server \(peer): no address")
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            do {
                try connect(info.pointee)
                return
            } catch let error as CurationError {
                lastError = error
            }
        }
        throw lastError
    }

    deinit { close() }

    private func connect(_ info: addrinfo) throws {
        #if canImport(Glibc)
        let type = info.ai_socktype | Int32(SOCK_CLOEXEC.rawValue)
        #else
        let type = info.ai_socktype
        #endif
        let socketFD = socket(info.ai_family, type, info.ai_protocol)
        guard socketFD >= 0 else {
            throw CurationError.posix(.smtpConnection, "socket for SMTP server", peer)
        }
        guard abortHandle?.register(socketFD) ?? true else {
            _ = Sys.close(socketFD)
            throw CurationError(.smtpConnection, "SMTP delivery to \(peer) aborted")
        }
        fd = socketFD
        _ = fcntl(socketFD, F_SETFL, fcntl(socketFD, F_GETFL) | O_NONBLOCK)
        #if canImport(Darwin)
        var one: Int32 = 1
        setsockopt(socketFD, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
        if Sys.connect(socketFD, info.ai_addr, info.ai_addrlen) != 0 {
            guard errno == EINPROGRESS || errno == EINTR else {
                let error = CurationError.posix(.smtpConnection, "connect to SMTP server", peer)
                close()
                throw error
            }
            do {
                try wait(for: Int16(POLLOUT), step: "connect")
            } catch {
                close()
                throw error
            }
            var soError: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(socketFD, SOL_SOCKET, SO_ERROR, &soError, &length)
            if soError != 0 {
                let error = CurationError.posix(.smtpConnection, "connect to SMTP server", peer, errno: soError)
                close()
                throw error
            }
        }
    }

    /// Waits until the socket is ready for `events`, the timeout passes, or the exchange is
    /// aborted (checked every 250 ms).
    private func wait(for events: Int16, step: String) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if abortHandle?.isAborted == true {
                throw CurationError(.smtpConnection, "SMTP delivery to \(peer) aborted")
            }
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 {
                throw CurationError(.smtpConnection,
                                    "SMTP server \(peer) did not answer within \(TOMLLiteral.number(timeout)) s (\(step))")
            }
            var pfd = pollfd(fd: fd, events: events, revents: 0)
            let slice = Int32(min(remaining, 0.25) * 1000) + 1
            do {
                if try syscall("poll", { poll(&pfd, 1, slice) }) > 0 { return }
            } catch {
                throw CurationError(.smtpConnection, "poll on the connection to \(peer): \(error.reason)")
            }
        }
    }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            try wait(for: Int16(POLLOUT), step: "send")
            #if canImport(Glibc)
            let flags = Int32(MSG_NOSIGNAL)
            #else
            let flags: Int32 = 0
            #endif
            let at = offset
            do {
                offset += try syscall("send") {
                    bytes.withUnsafeBytes { raw in Sys.send(fd, raw.baseAddress! + at, raw.count - at, flags) }
                }
            } catch where error.errno == EAGAIN || error.errno == EWOULDBLOCK {
                continue
            } catch {
                throw CurationError(.smtpConnection, "send to SMTP server \(peer): \(error.reason)")
            }
        }
    }

    func receive() throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            try wait(for: Int16(POLLIN), step: "reply")
            let n: Int
            do {
                n = try syscall("recv") { buffer.withUnsafeMutableBytes { raw in recv(fd, raw.baseAddress!, raw.count, 0) } }
            } catch where error.errno == EAGAIN || error.errno == EWOULDBLOCK {
                continue
            } catch {
                throw CurationError(.smtpConnection, "receive from SMTP server \(peer): \(error.reason)")
            }
            if n > 0 { return Array(buffer[0..<n]) }
            throw CurationError(.smtpConnection, "SMTP server \(peer) closed the connection")
        }
    }

    func close() {
        guard fd >= 0 else { return }
        abortHandle?.unregister()
        _ = Sys.close(fd)
        fd = -1
    }
}
