import Foundation

/// Sends mail in the background so the caller never waits on the network.
///
/// ``send(_:)`` writes the mail to the ``MailSpool`` (local disk only) and wakes a dedicated
/// sender thread, which works in plain synchronous programs as well as async ones. The thread
/// delivers everything in the spool — including mails left by earlier runs, which it sends as
/// soon as it starts — and after a failure retries with exponential backoff
/// (`retry_seconds` doubling up to `retry_max_seconds`). ``flush(timeout:)`` gives a program
/// a bounded wait at exit; what is still undelivered stays in the spool for the next start.
public final class AlertMailer: Sendable {
    /// Counters for monitoring and tests.
    public struct Statistics: Sendable, Equatable {
        /// Delivery passes started (each opens at most one connection per mail).
        public var passes = 0
        /// Mails the relay accepted.
        public var delivered = 0
        /// Passes that ended with the relay unreachable or deferring.
        public var failedPasses = 0
        /// Mails set aside (refused permanently or unreadable).
        public var setAside = 0
        /// The last transient error, cleared by a clean pass.
        public var lastError: CurationError? = nil
    }

    private let core: Core

    /// The spool every mail goes through.
    public var spool: MailSpool { core.spool }
    /// The relay.
    public var client: SMTPClient { core.client }

    /// Starts the sender thread; it delivers what the spool already holds at once.
    ///
    /// - Parameters:
    ///   - retrySeconds: First delay after a failed pass; doubles up to `retryMaxSeconds`.
    ///   - diagnostics: Told about delivery problems in one line (never through the mailer
    ///     itself, so a dead relay cannot cause a mail storm).
    public init(spool: MailSpool, client: SMTPClient, retrySeconds: Double = 5,
                retryMaxSeconds: Double = 600, diagnostics: (@Sendable (String) -> Void)? = nil)
    {
        core = Core(spool: spool, client: client, retrySeconds: retrySeconds,
                    retryMaxSeconds: retryMaxSeconds, diagnostics: diagnostics)
        core.start()
    }

    /// A mailer for `[mail]` of the config.
    public convenience init(config: WSAConfig.Mail, diagnostics: (@Sendable (String) -> Void)? = nil) {
        self.init(spool: MailSpool(config), client: SMTPClient(settings: SMTPSettings(config)),
                  retrySeconds: config.retrySeconds, retryMaxSeconds: config.retryMaxSeconds,
                  diagnostics: diagnostics)
    }

    deinit { core.requestStop() }

    /// Queues a mail: spools it (disk only, never the network) and wakes the sender unless it
    /// is backing off after a failure. If the spool cannot be written the mail is kept in
    /// memory and spooled again by the sender.
    public func send(_ message: MailMessage) { core.send(message) }

    /// Asks for a delivery pass now (even while backing off) and waits up to `timeout`
    /// seconds for it. Returns true if the spool was empty after a pass that started after
    /// this call.
    @discardableResult
    public func flush(timeout: Double) -> Bool { core.flush(timeout: timeout) }

    /// Stops the sender thread, aborting a delivery in progress; waits up to `timeout`
    /// seconds for it to end. Undelivered mail stays in the spool.
    public func stop(timeout: Double = 5) { core.stop(timeout: timeout) }

    /// A snapshot of the counters.
    public var statistics: Statistics { core.statistics }

    /// True while the sender is inside a delivery pass.
    public var isDelivering: Bool { core.isDelivering }

    private final class Core: @unchecked Sendable {
        private struct State {
            var wake = false
            var stopping = false
            var finished = false
            var inPass = false
            var completedPasses = 0
            var lastPassClean = false
            var backoff: Double = 0
            var nextAttempt: Date? = nil
            var unspooled: [MailMessage] = []
            var statistics = Statistics()
        }

        let spool: MailSpool
        let client: SMTPClient
        private let retryInitial: Double
        private let retryMax: Double
        private let diagnostics: (@Sendable (String) -> Void)?
        private let abortHandle = SMTPAbortHandle()
        private let condition = NSCondition()
        private var state = State()  // guarded by `condition`

        init(spool: MailSpool, client: SMTPClient, retrySeconds: Double,
             retryMaxSeconds: Double, diagnostics: (@Sendable (String) -> Void)?)
        {
            self.spool = spool
            self.client = client
            self.retryInitial = max(0.01, retrySeconds)
            self.retryMax = max(self.retryInitial, retryMaxSeconds)
            self.diagnostics = diagnostics
            state.wake = true
        }

        func start() {
            let thread = Thread { [self] in self.run() }
            thread.name = "wsa.mail"
            thread.start()
        }

        /// Asks the thread to end without waiting.
        func requestStop() {
            condition.lock()
            state.stopping = true
            condition.broadcast()
            condition.unlock()
            abortHandle.abort()
        }

        func send(_ message: MailMessage) {
            var spoolError: CurationError? = nil
            do {
                try spool.enqueue(message)
            } catch {
                spoolError = error as? CurationError ?? CurationError(.mailSpool, "\(error)")
            }
            condition.lock()
            if spoolError != nil { state.unspooled.append(message) }
            if state.nextAttempt == nil {
                state.wake = true
                condition.broadcast()
            }
            condition.unlock()
            if let spoolError {
                diagnostics?("alert mail kept in memory only: \(spoolError.message)")
            }
        }

        func flush(timeout: Double) -> Bool {
            let deadline = Date().addingTimeInterval(max(0, timeout))
            condition.lock()
            defer { condition.unlock() }
            guard !state.finished else { return false }
            let target = state.completedPasses + (state.inPass ? 2 : 1)
            state.wake = true
            condition.broadcast()
            while state.completedPasses < target && !state.finished {
                if !condition.wait(until: deadline) { break }
            }
            return state.completedPasses >= target && state.lastPassClean
        }

        func stop(timeout: Double) {
            let deadline = Date().addingTimeInterval(max(0, timeout))
            condition.lock()
            state.stopping = true
            condition.broadcast()
            condition.unlock()
            abortHandle.abort()
            condition.lock()
            while !state.finished {
                if !condition.wait(until: deadline) { break }
            }
            condition.unlock()
        }

        var statistics: Statistics {
            condition.lock()
            defer { condition.unlock() }
            return state.statistics
        }

        var isDelivering: Bool {
            condition.lock()
            defer { condition.unlock() }
            return state.inPass
        }

        private func run() {
            while true {
                condition.lock()
                while !state.stopping && !state.wake {
                    if let next = state.nextAttempt {
                        if Date() >= next { break }
                        _ = condition.wait(until: next)
                    } else {
                        condition.wait()
                    }
                }
                if state.stopping {
                    state.finished = true
                    condition.broadcast()
                    condition.unlock()
                    return
                }
                state.wake = false
                state.inPass = true
                state.statistics.passes += 1
                var toSpool = state.unspooled
                state.unspooled = []
                condition.unlock()

                // Mails that could not be spooled at send time get another chance.
                var unspooledError: CurationError? = nil
                while let message = toSpool.first {
                    do {
                        try spool.enqueue(message)
                        toSpool.removeFirst()
                    } catch {
                        unspooledError = error as? CurationError
                        break
                    }
                }
                var inMemory: [MailMessage] = []
                if unspooledError != nil {
                    // Deliver directly; keep them in memory if that fails too.
                    for message in toSpool {
                        do {
                            _ = try client.deliver(from: message.from, recipients: message.recipients,
                                                   data: message.rendered(), abort: abortHandle)
                        } catch {
                            inMemory.append(message)
                        }
                    }
                }

                let result = spool.deliverPending(using: client, abort: abortHandle)

                condition.lock()
                state.inPass = false
                state.completedPasses += 1
                state.unspooled = inMemory + state.unspooled
                state.statistics.delivered += result.delivered
                state.statistics.setAside += result.setAside
                let wasFailing = state.statistics.lastError != nil
                var retryIn: Double? = nil
                if let error = result.transientError {
                    state.statistics.failedPasses += 1
                    state.statistics.lastError = error
                    state.backoff = state.backoff == 0 ? retryInitial : min(state.backoff * 2, retryMax)
                    retryIn = state.backoff
                } else if result.remaining > 0 || !state.unspooled.isEmpty {
                    // Files held by another process, or mail not yet spooled: look again soon.
                    state.backoff = 0
                    retryIn = retryInitial
                } else {
                    state.backoff = 0
                    state.statistics.lastError = nil
                }
                state.nextAttempt = retryIn.map { Date().addingTimeInterval($0) }
                state.lastPassClean = result.remaining == 0 && result.transientError == nil
                    && state.unspooled.isEmpty
                let stopping = state.stopping
                condition.broadcast()
                condition.unlock()

                guard let diagnostics, !stopping else { continue }
                for problem in result.problems { diagnostics("alert mail: \(problem)") }
                if let error = result.transientError {
                    let wait = TOMLLiteral.number(retryIn ?? 0)
                    diagnostics("alert mail not delivered: \(error.message); \(result.remaining) kept in \(spool.directory), retry in \(wait) s")
                } else if wasFailing && result.delivered > 0 {
                    diagnostics("alert mail delivery resumed: \(result.delivered) sent")
                }
            }
        }
    }
}
