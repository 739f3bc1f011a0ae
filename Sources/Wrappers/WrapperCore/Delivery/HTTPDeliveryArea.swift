import AsyncHTTPClient
import Curation
public import Foundation
import NIOCore
import NIOHTTP1
public import AppDriver
import SystemSupport

/// A delivery area served over HTTP(S) by a plain static server that lists directories as HTML
/// (`python3 -m http.server`, nginx `autoindex`, Apache). Sizes come from `COMPLETE`; a night
/// without one is judged by `Content-Length` (HEAD) twice, `settle` apart.
public struct HTTPDeliveryArea: DeliveryArea {
    /// The area's URL, ending in `/`.
    public let base: URL
    /// How long sizes must stay unchanged when a night has no `COMPLETE`.
    public let settle: Duration
    /// Limit for a listing, a HEAD, or the start of a download's response.
    public let timeout: Duration
    /// Slowest acceptable transfer, bytes per second: a download may take
    /// `timeout + size / minimumRate` in all.
    public let minimumRate: Int64
    private let client: HTTPClient

    public init(base: URL, settle: Duration = .seconds(2), timeout: Duration = .seconds(30),
                minimumRate: Int64 = 1 << 20) throws(WrapperError) {
        guard let scheme = base.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = base.host, !host.isEmpty,
              var components = URLComponents(url: base, resolvingAgainstBaseURL: true) else {
            throw WrapperError(.deliveryUnavailable, file: base.absoluteString, "not a file: or http(s) URL of a delivery area")
        }
        components.query = nil
        components.fragment = nil
        if !components.percentEncodedPath.hasSuffix("/") { components.percentEncodedPath += "/" }
        guard let normalized = components.url else {
            throw WrapperError(.deliveryUnavailable, file: base.absoluteString, "not a usable URL")
        }
        self.base = normalized
        self.settle = settle
        self.timeout = timeout
        self.minimumRate = max(1, minimumRate)
        self.client = HTTPClient.shared
    }

    public var description: String { "delivery area \(base.absoluteString)" }

    public func nights() async throws(WrapperError) -> [String] {
        let entries = try await listing(base.absoluteString, what: "the delivery area")
        return Delivery.sortNights(entries.filter { $0.directory && Delivery.isNightName($0.name) }.map(\.name))
    }

    public func night(_ name: String) async throws(WrapperError) -> DeliveryNight {
        try Delivery.requireNight(name, in: description)
        let nightURL = url(night: name)
        let names = try await fileNames(nightURL)
        if names.contains(Delivery.marker) {
            let markerURL = nightURL + Delivery.marker
            let (status, body) = try await get(markerURL, limit: 64 << 20, what: "cannot read the marker")
            guard status == 200 else {
                throw WrapperError(.deliveryUnavailable, file: markerURL, "cannot read the marker: HTTP \(status)")
            }
            switch Delivery.parseMarker(String(buffer: body)) {
            case .success(let entries):
                var judged = Delivery.judge(night: name, marker: entries,
                                            present: Dictionary(uniqueKeysWithValues: names.map { ($0, Int64?.none) }))
                if judged.ready { judged.reason += " in the server's listing (sizes verified on fetch)" }
                judged.marker = DeliveredFile(night: name, name: Delivery.marker, size: Int64(body.readableBytes))
                return judged
            case .failure(let problem):
                return DeliveryNight(night: name, ready: false, reason: "\(name)/\(problem.reason)", files: [])
            }
        }
        if let transient = names.filter(Delivery.isTransient).min() {
            return DeliveryNight(night: name, ready: false,
                                 reason: "\(name)/\(transient): delivery in progress (temporary file), no marker",
                                 files: names.filter { !Delivery.isTransient($0) }.sorted()
                                     .map { DeliveredFile(night: name, name: $0, size: 0) })
        }
        let first = try await sizes(of: names, in: nightURL)
        try? await Task.sleep(for: settle)
        let again = try await fileNames(nightURL)
        if again.contains(Delivery.marker) { return try await night(name) }
        let second = try await sizes(of: again, in: nightURL)
        return Delivery.judgeStability(night: name, first: first, second: second, settle: settle)
    }

    public func fetch(_ file: DeliveredFile, to destination: URL) async throws(WrapperError) -> FetchedFile {
        guard Delivery.isNightName(file.night), Delivery.isPlainName(file.name) else {
            throw WrapperError(.transferFailed, file: file.relativePath, "not a file of a night directory")
        }
        let source = url(night: file.night) + Self.encode(file.name)
        let limit = timeout + .seconds(file.size / minimumRate)
        let outcome = await withTaskGroup(of: Result<FetchedFile, WrapperError>?.self) { group in
            group.addTask {
                do throws(WrapperError) {
                    return .success(try await self.download(file, from: source, to: destination))
                } catch {
                    return .failure(error)
                }
            }
            group.addTask {
                try? await Task.sleep(for: limit)
                return nil
            }
            var transfer: Result<FetchedFile, WrapperError>?
            var expired = false
            for await result in group {
                if let result { transfer = result } else if transfer == nil { expired = true }
                group.cancelAll()
            }
            return (transfer, expired)
        }
        switch outcome {
        case (.success(let fetched)?, _):
            return fetched
        case (_, true):
            let why = Task.isCancelled ? "cancelled" : "not finished within \(Delivery.format(limit))"
            throw WrapperError(.transferFailed, file: source, why)
        case (.failure(let error)?, false):
            throw error
        case (nil, false):
            throw WrapperError(.transferFailed, file: source, "cancelled")
        }
    }

    /// Streams `source` into a ``StagedFile`` and commits it.
    private func download(_ file: DeliveredFile, from source: String, to destination: URL) async throws(WrapperError) -> FetchedFile {
        let response: HTTPClientResponse
        do {
            response = try await client.execute(HTTPClientRequest(url: source), timeout: Self.amount(timeout))
        } catch {
            throw WrapperError(.transferFailed, file: source, "cannot download: \(error)")
        }
        guard response.status.code == 200 else {
            throw WrapperError(.transferFailed, file: source, "HTTP \(response.status.code) \(response.status.reasonPhrase)")
        }
        if let announced = response.headers.first(name: "content-length").flatMap({ Int64($0) }), announced != file.size {
            throw WrapperError(.transferFailed, file: source, "the server sends \(announced) bytes, expected \(file.size)")
        }
        var staged = try StagedFile(file, to: destination, label: source)
        do throws(WrapperError) {
            do {
                for try await chunk in response.body {
                    guard staged.bytes + Int64(chunk.readableBytes) <= file.size else {
                        throw WrapperError(.transferFailed, file: source, "the server sends more than the expected \(file.size) bytes")
                    }
                    var failure: WrapperError?
                    chunk.withUnsafeReadableBytes { bytes in
                        do throws(WrapperError) { try staged.write(bytes) } catch { failure = error }
                    }
                    if let failure { throw failure }
                }
            } catch let error as WrapperError {
                throw error
            } catch {
                throw WrapperError(.transferFailed, file: source, "transfer interrupted after \(staged.bytes) bytes: \(error)")
            }
        } catch {
            staged.abandon()
            throw error
        }
        let handed = staged
        return try await Delivery.offload { () throws(WrapperError) in
            var staged = handed
            return try staged.commit()
        }
    }

    /// The names of the files (not directories) a night directory lists.
    private func fileNames(_ nightURL: String) async throws(WrapperError) -> [String] {
        try await listing(nightURL, what: "the night").filter { !$0.directory }.map(\.name)
    }

    /// `Content-Length` of each file, HEAD requests at most 8 at a time; files gone are left out.
    private func sizes(of names: [String], in nightURL: String) async throws(WrapperError) -> [String: Int64] {
        let outcome = await withTaskGroup(of: Result<(String, Int64?), WrapperError>.self) { group in
            var pending = names[...]
            func next() {
                guard let name = pending.popFirst() else { return }
                group.addTask {
                    do throws(WrapperError) {
                        return .success((name, try await contentLength(nightURL + Self.encode(name))))
                    } catch {
                        return .failure(error)
                    }
                }
            }
            for _ in 0..<8 { next() }
            var sizes: [String: Int64] = [:]
            var failure: WrapperError?
            for await result in group {
                switch result {
                case .success((let name, let size?)): sizes[name] = size
                case .success: break
                case .failure(let error): failure = failure ?? error
                }
                if failure == nil { next() }
            }
            return failure.map { Result.failure($0) } ?? .success(sizes)
        }
        return try outcome.get()
    }

    /// The `Content-Length` a HEAD request reports; nil when the file is gone (404).
    private func contentLength(_ url: String) async throws(WrapperError) -> Int64? {
        var request = HTTPClientRequest(url: url)
        request.method = .HEAD
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: Self.amount(timeout))
        } catch {
            throw WrapperError(.deliveryUnavailable, file: url, "HEAD failed: \(error)")
        }
        if response.status.code == 404 { return nil }
        guard response.status.code == 200 else {
            throw WrapperError(.deliveryUnavailable, file: url, "HEAD: HTTP \(response.status.code) \(response.status.reasonPhrase)")
        }
        guard let length = response.headers.first(name: "content-length").flatMap({ Int64($0) }) else {
            throw WrapperError(.deliveryUnavailable, file: url, "the server gives no Content-Length")
        }
        return length
    }

    /// GETs `url` whole (at most `limit` bytes): the status and body.
    private func get(_ url: String, limit: Int, what: String) async throws(WrapperError) -> (UInt, ByteBuffer) {
        do {
            let response = try await client.execute(HTTPClientRequest(url: url), timeout: Self.amount(timeout))
            let body = try await response.body.collect(upTo: limit)
            return (response.status.code, body)
        } catch {
            throw WrapperError(.deliveryUnavailable, file: url, "\(what): \(error)")
        }
    }

    /// The entries of the HTML directory listing at `url`.
    private func listing(_ url: String, what: String) async throws(WrapperError) -> [ListingEntry] {
        let (status, body) = try await get(url, limit: 16 << 20, what: "cannot list \(what)")
        guard status == 200 else {
            throw WrapperError(.deliveryUnavailable, file: url, "cannot list \(what): HTTP \(status)")
        }
        guard let listed = URL(string: url) else { return [] }
        return Self.entries(html: String(buffer: body), listing: listed)
    }

    struct ListingEntry: Equatable {
        var name: String
        var directory: Bool
    }

    /// The direct children a listing links to: hrefs resolved against the listing's URL,
    /// percent-decoded; parent links, query strings (sort links) and links elsewhere are dropped.
    static func entries(html: String, listing: URL) -> [ListingEntry] {
        let pattern = /[Hh][Rr][Ee][Ff]\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/
        let listingPath = listing.path(percentEncoded: true)
        var seen: Set<String> = []
        var out: [ListingEntry] = []
        for match in html.matches(of: pattern) {
            guard let raw = match.output.1 ?? match.output.2 ?? match.output.3 else { continue }
            var href = unescapeHTML(String(raw))
            guard !href.contains("?") else { continue }
            if let hash = href.firstIndex(of: "#") { href = String(href[..<hash]) }
            guard !href.isEmpty, let target = URL(string: href, relativeTo: listing)?.absoluteURL,
                  target.scheme?.lowercased() == listing.scheme?.lowercased(),
                  target.host?.lowercased() == listing.host?.lowercased(), target.port == listing.port else { continue }
            let path = target.path(percentEncoded: true)
            guard path.hasPrefix(listingPath) else { continue }
            var rest = Substring(path.dropFirst(listingPath.count))
            let directory = rest.hasSuffix("/")
            if directory { rest = rest.dropLast() }
            guard !rest.contains("/"), let name = String(rest).removingPercentEncoding,
                  Delivery.isPlainName(name), seen.insert(name).inserted else { continue }
            out.append(ListingEntry(name: name, directory: directory))
        }
        return out
    }

    private static func unescapeHTML(_ s: String) -> String {
        guard s.contains("&") else { return s }
        return s.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#x27;", with: "'")
            .replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&lt;", with: "<")
            .replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
    }

    private static let unreserved = CharacterSet(charactersIn:
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// A path segment, percent-encoded.
    static func encode(_ segment: String) -> String {
        segment.addingPercentEncoding(withAllowedCharacters: unreserved) ?? segment
    }

    private func url(night: String) -> String { base.absoluteString + Self.encode(night) + "/" }

    private static func amount(_ d: Duration) -> TimeAmount {
        .nanoseconds(Int64(min(d.secondsValue, 1e9) * 1e9))
    }
}
