//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import HTTPClient
import Logging
import RuleSQL
import Synchronization

/// POSTs each message to a URL (libcurl, through `HTTPClient`).
///
/// 2xx confirms. 408, 429, 5xx and transport failures (refused, timeout) are retried with exponential backoff,
/// honouring `Retry-After`, for as long as it takes: the message stays unsettled upstream meanwhile and the
/// sink's window withholds upstream credit. Any other status refuses the message (→ dead letter). Every request
/// carries `Idempotency-Key: <messageId>` so a receiver can drop the repeats a crash may cause.
final class WebhookSink: Sink {
    private struct Counters {
        var state = SinkState(phase: "starting")
        var stopped = false
    }

    let name: String
    let settings: WebhookSettings
    let logger: Logger
    private let client: HTTPClient
    private let window: SinkWindow
    private let counters = Mutex(Counters())
    private let tasks = Mutex<[UInt64: Task<Void, Never>]>([:])
    private let nextTask = Atomic<UInt64>(0)

    init(name: String, settings: WebhookSettings, logger: Logger) {
        self.name = name
        self.settings = settings
        self.logger = logger
        var configuration = HTTPClientConfiguration()
        let milliseconds = Int(settings.timeout.components.seconds * 1000 + settings.timeout.components.attoseconds / 1_000_000_000_000_000)
        configuration.requestTimeoutMilliseconds = milliseconds
        configuration.connectTimeoutMilliseconds = min(milliseconds, 10_000)
        configuration.userAgent = "iotbridge"
        self.client = HTTPClient(configuration: configuration)
        self.window = SinkWindow(capacity: settings.concurrency)
    }

    func start() async throws {
        self.counters.withLock { $0.state.phase = "flowing" }
    }

    func send(_ message: SinkMessage, completion: @escaping @Sendable (SinkOutcome) -> Void) async throws {
        try await self.window.acquire()
        self.counters.withLock { $0.state.inFlight += 1 }
        let request = self.request(for: message)
        let id = self.nextTask.add(1, ordering: .relaxed).newValue
        // Unstructured on purpose: each request lives until confirmed or refused, independently of the caller,
        // and is tracked in `tasks` so that shutdown can cancel it.
        let task = Task {
            let outcome = await self.deliver(request, messageId: message.message.messageId)
            self.tasks.withLock { _ = $0.removeValue(forKey: id) }
            self.counters.withLock { counters in
                counters.state.inFlight -= 1
                switch outcome {
                case .confirmed: counters.state.confirmed += 1
                case .refused: counters.state.refused += 1
                case .abandoned: break
                }
            }
            self.window.release()
            completion(outcome)
        }
        self.tasks.withLock { $0[id] = task }
    }

    private func request(for item: SinkMessage) -> HTTPRequest {
        var headers: [HTTPHeader] = []
        if let id = item.message.messageId { headers.append(HTTPHeader("Idempotency-Key", id)) }
        for (name, value) in self.settings.headers.sorted(by: { $0.key < $1.key }) { headers.append(HTTPHeader(name, value)) }
        if let body = self.settings.envelope.body(for: item) {
            headers.append(HTTPHeader("Content-Type", "application/json"))
            return HTTPRequest(method: "POST", url: self.settings.url, headers: headers, body: body)
        }
        switch self.settings.format {
        case .envelope:
            headers.append(HTTPHeader("Content-Type", "application/json"))
            var body = MessageEnvelope.line(item)
            body.removeLast()
            return HTTPRequest(method: "POST", url: self.settings.url, headers: headers, body: body)
        case .raw:
            let message = item.message
            headers.append(HTTPHeader("Content-Type", self.settings.rawContentType ?? "application/octet-stream"))
            if let topic = message.topic { headers.append(HTTPHeader("X-IoT-Topic", Self.headerSafe(topic))) }
            if let id = message.messageId { headers.append(HTTPHeader("X-IoT-Message-Id", Self.headerSafe(id))) }
            if let time = message.generateTime { headers.append(HTTPHeader("X-IoT-Generate-Time", String(time))) }
            headers.append(HTTPHeader("X-IoT-Instance-Id", Self.headerSafe(message.instanceLabel)))
            return HTTPRequest(method: "POST", url: self.settings.url, headers: headers, body: item.payload)
        }
    }

    /// Header values must not carry line breaks (they would split the request).
    static func headerSafe(_ text: String) -> String {
        String(text.unicodeScalars.filter { $0 != "\r" && $0 != "\n" })
    }

    /// Sends until a final answer; returns the outcome.
    private func deliver(_ request: HTTPRequest, messageId: String?) async -> SinkOutcome {
        var attempt = 0
        while !Task.isCancelled {
            attempt += 1
            var retryAfter: Double?
            let problem: String
            do {
                let response = try await self.client.execute(request)
                switch response.status {
                case 200..<300:
                    if attempt > 1 {
                        self.counters.withLock {
                            $0.state.phase = "flowing"
                            $0.state.lastError = nil
                        }
                    }
                    return .confirmed
                case 408, 429, 500..<600:
                    retryAfter = response.header("Retry-After").flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }
                    problem = "HTTP \(response.status) from \(self.settings.url)"
                default:
                    let text = String(response.text.prefix(200))
                    return .refused("webhook \(self.name): HTTP \(response.status) from \(self.settings.url)" + (text.isEmpty ? "" : ": \(text)"))
                }
            } catch {
                problem = "\(error)"
            }
            self.counters.withLock {
                $0.state.retries += 1
                $0.state.phase = "retrying"
                $0.state.lastError = problem
            }
            if attempt == 1 || attempt % 20 == 0 {
                self.logger.warning(
                    "webhook failed; retrying",
                    metadata: ["sink": "\(self.name)", "error": "\(problem)", "attempt": "\(attempt)", "messageId": "\(messageId ?? "-")"]
                )
            }
            let backoff = min(30, 0.1 * pow(2, Double(min(attempt - 1, 9)))) * Double.random(in: 0.5...1)
            let delay = min(retryAfter ?? backoff, 300)
            do {
                try await Task.sleep(for: .milliseconds(Int64(delay * 1000)))
            } catch {
                break
            }
        }
        return .abandoned
    }

    func shutdown(deadline: Duration) async {
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: deadline)
        while self.counters.withLock({ $0.state.inFlight }) > 0, clock.now < end {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let remaining = self.tasks.withLock { Array($0.values) }
        for task in remaining { task.cancel() }
        for task in remaining { await task.value }
        self.window.close()
        self.counters.withLock { $0.state.phase = "stopped" }
    }

    var state: SinkState { self.counters.withLock { $0.state } }
}
