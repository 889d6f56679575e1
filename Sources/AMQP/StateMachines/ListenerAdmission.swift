//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// Who may connect to the listener right now: at most `maxConnections` admitted connections in all and
/// `maxPerAddress` from one remote address. Pure value type, kept by the listener on the proactor thread.
///
/// A connection over a limit is still accepted by the kernel and Proton; it is told why at Open
/// (`amqp:resource-limit-exceeded`) and closed. Those refusals hold a socket and a little memory until the client
/// reads the Close, so they are bounded too: past `maxRefusing` refusals in progress, further connections are
/// dropped without a word.
struct ConnectionAdmission {
    /// What to do with a connection just accepted.
    enum Decision: Equatable {
        /// Serve it (it still has to log in).
        case admit
        /// Tell it why at Open, then close it.
        case refuse(AMQPCondition)
        /// Close it at once without a word: too many refusals are in progress already.
        case drop(reason: String)
    }

    let maxConnections: Int
    let maxPerAddress: Int
    let maxRefusing: Int
    /// Admitted connections not yet closed.
    private(set) var admitted = 0
    /// Refused connections (told why) not yet closed.
    private(set) var refusing = 0
    /// Admitted connections by remote address (host, no port).
    private var byAddress: [String: Int] = [:]

    /// Creates an empty admission with its limits.
    init(maxConnections: Int, maxPerAddress: Int, maxRefusing: Int = 64) {
        self.maxConnections = maxConnections
        self.maxPerAddress = maxPerAddress
        self.maxRefusing = maxRefusing
    }

    /// Admitted connections from `address` that are not closed.
    func count(from address: String) -> Int { self.byAddress[address] ?? 0 }

    /// A connection from `address` was accepted. Every decision must be matched by one `closed` with it.
    mutating func accepted(from address: String) -> Decision {
        let fromAddress = self.byAddress[address] ?? 0
        var refusal: String?
        if self.admitted >= self.maxConnections {
            refusal = "the listener has \(self.maxConnections) connections, its limit (max connections); try again later"
        } else if fromAddress >= self.maxPerAddress {
            refusal =
                "the listener has \(self.maxPerAddress) connections from \(address), its limit per remote address "
                + "(max connections per address); close some or try again later"
        }
        guard let refusal else {
            self.admitted += 1
            self.byAddress[address] = fromAddress + 1
            return .admit
        }
        guard self.refusing < self.maxRefusing else {
            return .drop(reason: refusal)
        }
        self.refusing += 1
        return .refuse(AMQPCondition(name: AMQPCondition.resourceLimitExceeded, description: refusal))
    }

    /// A connection accepted with `decision` from `address` is closed.
    mutating func closed(from address: String, decision: Decision) {
        switch decision {
        case .admit:
            self.admitted = max(0, self.admitted - 1)
            let remaining = (self.byAddress[address] ?? 1) - 1
            self.byAddress[address] = remaining > 0 ? remaining : nil
        case .refuse:
            self.refusing = max(0, self.refusing - 1)
        case .drop:
            break
        }
    }
}

/// Failed logins per remote address, and how long to wait before telling the next one it failed: the delay
/// doubles with each failure from the address (`baseDelay`, 2×, 4×, … up to `maxDelay`), and an address is
/// forgotten once it has had no failure for `memory`. A success does not reset the count (an attacker with one
/// valid account could otherwise reset it between guesses). Pure value type; times are milliseconds on any
/// monotonic clock (the proactor's).
struct LoginThrottle {
    private struct Entry {
        var failures: Int
        var lastFailure: Int64
    }

    let baseDelay: Int64
    let maxDelay: Int64
    let memory: Int64
    /// The most addresses remembered; the one with the oldest failure makes room for a new one.
    let capacity: Int
    private var entries: [String: Entry] = [:]

    /// Creates a throttle; delays and memory in milliseconds.
    init(baseDelay: Int64, maxDelay: Int64, memory: Int64 = 600_000, capacity: Int = 10_000) {
        self.baseDelay = max(0, baseDelay)
        self.maxDelay = max(self.baseDelay, maxDelay)
        self.memory = memory
        self.capacity = max(1, capacity)
    }

    /// Addresses remembered now.
    var addressCount: Int { self.entries.count }

    /// Failures remembered for `address` at `now`.
    func failures(from address: String, now: Int64) -> Int {
        guard let entry = self.entries[address], now - entry.lastFailure < self.memory else { return 0 }
        return entry.failures
    }

    /// A login from `address` failed at `now`: returns how many failures the address has now (this one
    /// included) and how long to wait before telling the client.
    mutating func failed(from address: String, now: Int64) -> (failures: Int, delay: Int64) {
        var entry =
            self.entries[address].flatMap { now - $0.lastFailure < self.memory ? $0 : nil }
            ?? Entry(failures: 0, lastFailure: now)
        entry.failures += 1
        entry.lastFailure = now
        if self.entries[address] == nil && self.entries.count >= self.capacity { self.evict(now: now) }
        self.entries[address] = entry
        return (entry.failures, self.delay(forFailure: entry.failures))
    }

    /// The wait before answering the `failure`-th failure from an address: `baseDelay` doubled `failure - 1`
    /// times, at most `maxDelay`. A success after `failure - 1` failures waits as long.
    func delay(forFailure failure: Int) -> Int64 {
        var delay = self.baseDelay
        var doublings = failure - 1
        while doublings > 0 && delay < self.maxDelay {
            delay *= 2
            doublings -= 1
        }
        return min(delay, self.maxDelay)
    }

    /// Makes room: forgets expired addresses, or else the one whose last failure is oldest.
    private mutating func evict(now: Int64) {
        let before = self.entries.count
        self.entries = self.entries.filter { now - $0.value.lastFailure < self.memory }
        guard self.entries.count == before, let oldest = self.entries.min(by: { $0.value.lastFailure < $1.value.lastFailure })
        else { return }
        self.entries.removeValue(forKey: oldest.key)
    }
}

/// Keeps the process from running out of file descriptors while accepting: Proton's listener takes up to its
/// backlog of sockets at a time, and one `accept` that fails with EMFILE leaves Proton 0.37's listener unable to
/// close (`listener_done: l->overflow_count == 0` aborts the process), so accepting stops well before the limit.
/// The listener is paused (its socket closed: new clients are refused at once instead of hanging) when fewer
/// than `headroom` descriptors are left, and resumes once twice that many are free again. Pure value type.
struct DescriptorBudget {
    /// What to do with the listener.
    enum Action: Equatable {
        /// Nothing changes.
        case none
        /// Stop accepting: close the listening socket.
        case pause
        /// Accept again: listen on the same address and port.
        case resume
    }

    /// The process's descriptor limit (RLIMIT_NOFILE, soft).
    let limit: Int
    /// Descriptors kept free: Proton's accept backlog plus a reserve for everything else the process opens.
    let headroom: Int
    private(set) var isPaused = false

    /// Creates a budget for `limit` descriptors that keeps `headroom` free.
    init(limit: Int, headroom: Int) {
        self.limit = limit
        self.headroom = headroom
    }

    /// Whether `inUse` descriptors leave too few free to accept more.
    func isExhausted(inUse: Int) -> Bool {
        inUse + self.headroom >= self.limit
    }

    /// Listening again failed: paused until the next check finds enough descriptors free.
    mutating func markPaused() {
        self.isPaused = true
    }

    /// `inUse` descriptors are open now.
    mutating func measured(inUse: Int) -> Action {
        if !self.isPaused && self.isExhausted(inUse: inUse) {
            self.isPaused = true
            return .pause
        }
        if self.isPaused && inUse + 2 * self.headroom < self.limit {
            self.isPaused = false
            return .resume
        }
        return .none
    }
}
