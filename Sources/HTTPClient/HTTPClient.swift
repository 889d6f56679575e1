//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

internal import CCurl
import Dispatch
import Foundation
import Synchronization

/// An HTTP/1.1 client over libcurl's easy interface: the only code in iotbridge that calls `curl_*`.
///
/// ```swift
/// let client = HTTPClient()
/// let response = try await client.execute(HTTPRequest(method: "POST", url: "https://iot.cn-shanghai.aliyuncs.com/"))
/// ```
///
/// Each request runs on an easy handle of its own, so requests may run concurrently; finished handles go back to a
/// pool and are reused, which keeps their connections alive (a webhook sink makes thousands of requests to one
/// host: a new TCP and TLS handshake for each would dominate). `curl_easy_perform` blocks, so it runs on a private
/// dispatch queue and never on the cooperative thread pool.
public final class HTTPClient: Sendable {
    /// Timeouts, TLS and the user agent.
    public let configuration: HTTPClientConfiguration
    /// Blocking transfers run here.
    private let queue = DispatchQueue(label: "iotbridge.http", attributes: .concurrent)
    /// Idle handles, kept with their open connections.
    private let idle = Mutex<[CurlEasy]>([])
    /// The most idle handles kept.
    private static let maximumIdle = 64

    /// libcurl requires one `curl_global_init` before any handle exists and is not thread-safe about it; a `static
    /// let` runs it exactly once, thread-safely.
    private static let globalInit: Void = {
        _ = curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    }()

    /// Creates a client.
    public init(configuration: HTTPClientConfiguration = HTTPClientConfiguration()) {
        _ = Self.globalInit
        self.configuration = configuration
    }

    /// Sends a request and returns the response, whatever its status.
    ///
    /// - Throws: ``HTTPClientError`` when no response arrived (DNS, refused connection, timeout, TLS).
    public func execute(_ request: HTTPRequest) async throws -> HTTPResponse {
        let configuration = self.configuration
        return try await withCheckedThrowingContinuation { continuation in
            self.queue.async {
                let reused = self.idle.withLock { $0.popLast() }
                guard let easy = reused ?? CurlEasy() else {
                    continuation.resume(throwing: HTTPClientError(code: .transport, url: request.url, detail: "curl_easy_init failed"))
                    return
                }
                let result = Result { try easy.run(request, configuration: configuration) }
                self.idle.withLock { idle in
                    if idle.count < Self.maximumIdle { idle.append(easy) }
                }
                continuation.resume(with: result)
            }
        }
    }
}

/// Owns one `CURL*`, reused for one transfer at a time.
private final class CurlEasy: @unchecked Sendable {
    // @unchecked Sendable: a handle is used by one dispatch-queue thread at a time; it passes between threads only
    // through the client's pool (a Mutex), never while a transfer runs.
    /// Must be freed after the handle, which keeps pointing at it during the transfer.
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let handle: UnsafeMutableRawPointer
    /// libcurl writes its message here; it must outlive the handle's use.
    private var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    /// The body libcurl hands to the write callback.
    private var received: [UInt8] = []
    /// The header lines libcurl hands to the header callback.
    private var receivedHeaders: [HTTPHeader] = []

    init?() {
        guard let handle = curl_easy_init() else { return nil }
        self.handle = handle
    }

    deinit {
        curl_easy_cleanup(self.handle)
        curl_slist_free_all(self.headerList)
    }

    private func setLong(_ option: CURLoption, _ value: Int) {
        _ = ccurl_easy_setopt_long(self.handle, option, value)
    }

    private func setString(_ option: CURLoption, _ value: String) {
        // libcurl copies string options (CURLOPT_URL etc.), so the temporary C string may go away.
        _ = ccurl_easy_setopt_string(self.handle, option, value)
    }

    func run(_ request: HTTPRequest, configuration: HTTPClientConfiguration) throws -> HTTPResponse {
        // A reused handle forgets every option and the previous transfer's data, and keeps its connections.
        curl_easy_reset(self.handle)
        curl_slist_free_all(self.headerList)
        self.headerList = nil
        self.received.removeAll(keepingCapacity: true)
        self.receivedHeaders.removeAll()
        for index in self.errorBuffer.indices { self.errorBuffer[index] = 0 }
        guard request.url.hasPrefix("http://") || request.url.hasPrefix("https://") else {
            throw HTTPClientError(code: .invalidURL, url: request.url, detail: "not an http(s) URL")
        }
        self.setString(CURLOPT_URL, request.url)
        // Signals from libcurl's resolver would hit arbitrary threads; timeouts then rely on the threaded resolver.
        self.setLong(CURLOPT_NOSIGNAL, 1)
        self.setLong(CURLOPT_CONNECTTIMEOUT_MS, configuration.connectTimeoutMilliseconds)
        self.setLong(CURLOPT_TIMEOUT_MS, configuration.requestTimeoutMilliseconds)
        self.setLong(CURLOPT_SSL_VERIFYPEER, configuration.verifyPeer ? 1 : 0)
        self.setLong(CURLOPT_SSL_VERIFYHOST, configuration.verifyPeer ? 2 : 0)
        if let caFile = configuration.caFile {
            self.setString(CURLOPT_CAINFO, caFile)
        }
        self.setString(CURLOPT_USERAGENT, configuration.userAgent)
        self.setString(CURLOPT_CUSTOMREQUEST, request.method)
        for header in request.headers {
            // libcurl's convention: "Name:" with nothing after it removes a header it would add itself.
            let line = header.value.isEmpty ? "\(header.name):" : "\(header.name): \(header.value)"
            self.headerList = curl_slist_append(self.headerList, line)
        }
        if self.headerList != nil {
            _ = ccurl_easy_setopt_slist(self.handle, CURLOPT_HTTPHEADER, self.headerList)
        }
        if !request.body.isEmpty {
            self.setLong(CURLOPT_POSTFIELDSIZE, request.body.count)
            // COPYPOSTFIELDS copies the bytes, so the Swift array need not outlive this call.
            request.body.withUnsafeBytes { raw in
                _ = ccurl_easy_setopt_pointer(
                    self.handle,
                    CURLOPT_COPYPOSTFIELDS,
                    UnsafeMutableRawPointer(mutating: raw.baseAddress)
                )
            }
        }
        let writeFunction: ccurl_write_callback = { data, size, count, context in
            guard let data, let context else { return 0 }
            let easy = Unmanaged<CurlEasy>.fromOpaque(context).takeUnretainedValue()
            let length = size * count
            data.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
                easy.received.append(contentsOf: UnsafeBufferPointer(start: bytes, count: length))
            }
            return length
        }
        _ = ccurl_easy_setopt_write_function(self.handle, CURLOPT_WRITEFUNCTION, writeFunction)
        // Unretained is safe: `self` outlives the synchronous curl_easy_perform below.
        _ = ccurl_easy_setopt_pointer(self.handle, CURLOPT_WRITEDATA, Unmanaged.passUnretained(self).toOpaque())
        // The header callback has the write callback's signature; one call per header line.
        let headerFunction: ccurl_write_callback = { data, size, count, context in
            guard let data, let context else { return 0 }
            let easy = Unmanaged<CurlEasy>.fromOpaque(context).takeUnretainedValue()
            let length = size * count
            let line = data.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
                String(decoding: UnsafeBufferPointer(start: bytes, count: length), as: UTF8.self)
            }
            if line.hasPrefix("HTTP/") {
                // A new response (after a redirect or 100 Continue): only the last one's headers count.
                easy.receivedHeaders.removeAll()
            } else if let colon = line.firstIndex(of: ":") {
                let name = line[..<colon].trimmingCharacters(in: .whitespaces)
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
                easy.receivedHeaders.append(HTTPHeader(name, value))
            }
            return length
        }
        _ = ccurl_easy_setopt_write_function(self.handle, CURLOPT_HEADERFUNCTION, headerFunction)
        _ = ccurl_easy_setopt_pointer(self.handle, CURLOPT_HEADERDATA, Unmanaged.passUnretained(self).toOpaque())
        let result = self.errorBuffer.withUnsafeMutableBufferPointer { buffer in
            _ = ccurl_easy_setopt_pointer(self.handle, CURLOPT_ERRORBUFFER, buffer.baseAddress)
            let code = curl_easy_perform(self.handle)
            // The buffer is about to be released by Swift; stop libcurl from writing to it.
            _ = ccurl_easy_setopt_pointer(self.handle, CURLOPT_ERRORBUFFER, nil)
            return code
        }
        guard result == CURLE_OK else {
            throw self.error(for: result, url: request.url)
        }
        var status = 0
        _ = ccurl_easy_getinfo_long(self.handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, body: self.received, headers: self.receivedHeaders)
    }

    private func error(for code: CURLcode, url: String) -> HTTPClientError {
        let buffered = self.errorBuffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let detail = buffered.isEmpty ? String(cString: curl_easy_strerror(code)) : buffered
        let kind: HTTPClientError.Code
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: kind = .nameResolution
        case CURLE_COULDNT_CONNECT: kind = .connectionRefused
        case CURLE_OPERATION_TIMEDOUT: kind = .timeout
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE: kind = .tls
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL: kind = .invalidURL
        default: kind = .transport
        }
        return HTTPClientError(code: kind, url: url, detail: detail)
    }
}
