//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// The de-duplication window of the bridge: one batch operation ("claim these keys for this run; tell me each
/// key's state") and the bookkeeping around it. Every implementation (SQLite now, PostgreSQL for replicas) keeps
/// the same contract, so any number of bridge processes can share one window.
///
/// A claim is identified by the message key (a digest of the typed messageId) AND a digest of the topic and
/// body: a reused id with different content is a different claim (and counted as a conflict), never a duplicate.
///
/// States: a claim is *in flight* (an owner is delivering it, under a lease) until every target it was routed to
/// is terminal (confirmed by the sink, or dead-lettered); then it is *done*. A claim in flight for another owner
/// whose lease expired, or for an owner the store knows to be gone, counts as absent: its message is delivered
/// again, never settled as a duplicate (otherwise a crash between claim and confirmation would lose it).
///
/// Every write is durable when the call returns (with the store's configured synchronous level): the bridge
/// settles upstream deliveries only after the write that guards them returned.
///
/// Owners are never empty (the empty owner marks an abandoned claim); target ids are never empty and never
/// contain a comma; keys are 16 bytes. Implementations throw on a request that breaks these rules.
public protocol ClaimStore: Sendable {
    /// Claims each request for `options.owner`, in one transaction, and says what each key's state was.
    /// The results are in the order of `requests`. A key requested twice in one batch is claimed by the first
    /// request; the second sees it in flight for `options.owner`. With `options.inFlightHeldByCaller` the store
    /// may only read (no claim row is written; a key requested twice is `claimed` twice: the caller keeps keys
    /// apart); a store that writes anyway still honours the contract.
    func claim(_ requests: [ClaimRequest], options: ClaimOptions) async throws -> [ClaimResult]

    /// Records targets that became terminal (confirmed or dead-lettered) for claims, in one transaction. A claim
    /// whose `complete` flag is set becomes done. A claim that no longer exists (it expired meanwhile) is written
    /// again as given, so that a later duplicate still finds the recorded targets; its upstream is then unknown
    /// (empty).
    func record(_ updates: [ClaimUpdate]) async throws

    /// Gives claims up (the owner will not finish them: the upstream delivery was released), so that the next
    /// delivery of the same message claims them again at once. Targets already recorded stay recorded.
    func abandon(_ keys: [ClaimKey], owner: String) async throws

    /// Sets the lease of every claim `owner` holds in flight to `leaseUntil` (ms since the epoch).
    func renewLeases(owner: String, until leaseUntil: Int64) async throws

    /// Bounds the window: removes claims created before `createdBefore` (ms since the epoch), then the oldest
    /// claims beyond `maxEntries`. Works in small chunks so claims are never stalled for long.
    ///
    /// Claims in flight under a lease still live at `now` are kept, whatever their age: removing one would let a
    /// duplicate through as absent while the original is still being delivered. The window may therefore hold
    /// more than `maxEntries` claims while that many are in flight.
    func expire(createdBefore: Int64, maxEntries: Int, now: Int64) async throws -> ClaimExpiry

    /// How many claims the window holds.
    func claimCount() async throws -> Int
}

/// Identifies one claim: the message key and the content digest.
public struct ClaimKey: Hashable, Sendable, CustomStringConvertible {
    /// A digest of the typed message key (16 bytes): the string "42" and the ulong 42 differ.
    public var key: [UInt8]
    /// A digest of the topic and the body.
    public var contentDigest: Int64

    /// Creates a claim key.
    public init(key: [UInt8], contentDigest: Int64) {
        self.key = key
        self.contentDigest = contentDigest
    }

    /// Hashes the key's bytes in one call and the digest: the bridge looks keys up in several tables per message,
    /// and the synthesized hash feeds the hasher one byte at a time.
    public func hash(into hasher: inout Hasher) {
        self.key.withUnsafeBytes { hasher.combine(bytes: $0) }
        hasher.combine(self.contentDigest)
    }

    /// The first bytes of the key in hex, for logs.
    public var description: String {
        self.key.prefix(6).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}

/// One key to claim.
public struct ClaimRequest: Hashable, Sendable {
    /// The claim.
    public var key: ClaimKey
    /// The upstream the message came from (recorded with a new claim; reported with duplicates so that
    /// duplicates can be counted per upstream pair).
    public var upstream: String

    /// Creates a request.
    public init(key: ClaimKey, upstream: String) {
        self.key = key
        self.upstream = upstream
    }
}

/// Who claims, and how long the claim holds.
public struct ClaimOptions: Hashable, Sendable {
    /// The claiming run (a bridge process): a fresh id per process start; never empty.
    public var owner: String
    /// Now, in ms since the epoch (passed in so tests control time).
    public var now: Int64
    /// Until when (ms since the epoch) new claims hold without renewal; after `now`. A lease holds while
    /// `now < leaseUntil`.
    public var leaseUntil: Int64
    /// Whether claims of any other owner count as absent regardless of their lease: true when only one
    /// process can use the store (SQLite is locked to one bridge), so any other owner is an earlier run.
    public var otherOwnersAreGone: Bool
    /// Whether the caller holds its claims in flight itself (in memory) and the store need not write them: only
    /// `record` writes, and `claim` only reads what is recorded. Allowed only with `otherOwnersAreGone`: a claim
    /// in flight of an earlier run counts as absent anyway, so a row for it protects nothing. Saves the write
    /// transaction in front of every batch (the bridge on SQLite: one write per message instead of two).
    public var inFlightHeldByCaller: Bool

    /// Creates options.
    public init(owner: String, now: Int64, leaseUntil: Int64, otherOwnersAreGone: Bool, inFlightHeldByCaller: Bool = false) {
        self.owner = owner
        self.now = now
        self.leaseUntil = leaseUntil
        self.otherOwnersAreGone = otherOwnersAreGone
        self.inFlightHeldByCaller = inFlightHeldByCaller && otherOwnersAreGone
    }
}

/// What a key's state was when it was claimed.
public enum ClaimResult: Hashable, Sendable {
    /// The claim is now ours. `terminalTargets` lists targets an earlier owner already finished (deliver only
    /// to the others); `conflict` is true when the same key exists with a different content digest. A conflict
    /// is reported once, when the claim is created, not again when a later owner takes it over.
    case claimed(terminalTargets: Set<String>, conflict: Bool)
    /// Someone holds it in flight under a live lease (this very owner included): wait for it.
    case inFlight(owner: String, upstream: String)
    /// Done: every target is terminal. `deadLettered` tells whether any went to the dead letter.
    case done(upstream: String, deadLettered: Bool)
}

/// Targets of one claim that became terminal.
public struct ClaimUpdate: Hashable, Sendable {
    /// The claim.
    public var key: ClaimKey
    /// Targets (sink or rule-dispatch ids) now terminal, added to those recorded before. Never empty ids, never
    /// a comma in one.
    public var terminalTargets: Set<String>
    /// Whether one of them went to the dead letter.
    public var deadLettered: Bool
    /// Whether the claim is now done.
    public var complete: Bool
    /// The upstream of the message, written when the update creates the claim's row (the claim was held by the
    /// caller, or expired meanwhile); empty when unknown.
    public var upstream: String

    /// Creates an update.
    public init(key: ClaimKey, terminalTargets: Set<String>, deadLettered: Bool, complete: Bool, upstream: String = "") {
        self.key = key
        self.terminalTargets = terminalTargets
        self.deadLettered = deadLettered
        self.complete = complete
        self.upstream = upstream
    }
}

/// What `expire` removed.
public struct ClaimExpiry: Hashable, Sendable {
    /// Claims older than the time window.
    public var expired: Int
    /// Claims inside the time window removed because of the count bound (the window is too small for the
    /// traffic: duplicates of these would be delivered again).
    public var evictedEarly: Int

    /// Creates an expiry report.
    public init(expired: Int, evictedEarly: Int) {
        self.expired = expired
        self.evictedEarly = evictedEarly
    }
}

/// The contract's rules for the values a caller passes, shared by every store so that each refuses the same
/// requests with the same words. Each returns what is wrong, or nil.
public enum ClaimContract {
    /// Keys are 16-byte digests.
    public static func problem(with key: ClaimKey) -> String? {
        key.key.count == 16 ? nil : "claim key \(key) has \(key.key.count) bytes; keys are 16-byte digests"
    }

    /// Owners are never empty (the empty owner marks an abandoned claim).
    public static func problem(withOwner owner: String) -> String? {
        owner.isEmpty ? "the claim owner is empty; the empty owner marks abandoned claims" : nil
    }

    /// Target ids are never empty and never contain a comma (recorded targets are a comma-separated list).
    public static func problem(withTarget target: String) -> String? {
        guard target.isEmpty || target.contains(",") else { return nil }
        return "target id \"\(target)\" is empty or contains a comma; recorded targets are a comma-separated list"
    }
}
