//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// How the simulated OpenAPI endpoint listens, whom it lets in and when it throttles.
///
/// ```swift
/// var configuration = SimulatedOpenAPIConfiguration(accessKeys: ["LTAI5tSimulatorKey": secret])
/// configuration.throttling.actionQPS = SimulatedOpenAPIConfiguration.Throttling.platformQPS
/// ```
public struct SimulatedOpenAPIConfiguration: Sendable, CustomStringConvertible {
    /// The address to listen on. Default: `127.0.0.1`, so that a rehearsal is not reachable from the network.
    public var host: String
    /// The port. Default: 0, any free port; ``SimulatedOpenAPIServer/listeningPort()`` tells which.
    public var port: Int
    /// AccessKeyId → AccessKeySecret of the keys the endpoint accepts. Default: none, so every call is refused
    /// with `InvalidAccessKeyId.NotFound` until keys are configured. Secrets never appear in logs or descriptions.
    public var accessKeys: [String: String]
    /// How far a request's `Timestamp` may be from the endpoint's clock, either way. Default: 15 minutes, the
    /// platform's window ("用户时间和服务器时间不在 15 分钟内", `InvalidTimeStamp.Expired`).
    public var timestampTolerance: Duration
    /// The largest request body accepted. Default: 1 MiB (a parser script is at most 120 KB).
    public var maxBodyBytes: Int
    /// When to answer `Throttling.User`. Default: never.
    public var throttling: Throttling

    /// Creates a configuration; every parameter has the documented default.
    public init(
        host: String = "127.0.0.1",
        port: Int = 0,
        accessKeys: [String: String] = [:],
        timestampTolerance: Duration = .seconds(15 * 60),
        maxBodyBytes: Int = 1 << 20,
        throttling: Throttling = Throttling()
    ) {
        self.host = host
        self.port = port
        self.accessKeys = accessKeys
        self.timestampTolerance = timestampTolerance
        self.maxBodyBytes = maxBodyBytes
        self.throttling = throttling
    }

    /// Names the address and the keys, never the secrets.
    public var description: String {
        "SimulatedOpenAPIConfiguration(\(self.host):\(self.port), accessKeyIds: \(self.accessKeys.keys.sorted()), "
            + "secrets: <redacted>, throttling: \(self.throttling))"
    }

    /// Throttling is off unless switched on deliberately, two ways:
    ///
    /// - per-action QPS limits (``actionQPS``): the N+1-th call of an action within one second is refused, as the
    ///   platform's per-account limits do — ``platformQPS`` holds the documented ones;
    /// - "throttle the next N calls of A" (``SimulatedOpenAPIServer/throttleNext(_:of:)`` at run time, or
    ///   ``throttleNext`` from the start): to make a client's retry path run on demand.
    ///
    /// Only these two are configurable. They are what a rehearsal needs (does the migration survive the real
    /// limits? does it retry a throttled call?); a random failure rate would make tests flaky and say less.
    public struct Throttling: Sendable, Hashable, CustomStringConvertible {
        /// Action → the most calls per second; an action not named is not limited. Default: empty.
        public var actionQPS: [String: Int]
        /// Action → how many of its next calls to refuse, whatever the rate. Default: empty.
        public var throttleNext: [String: Int]

        /// Creates throttling settings; both default to empty (off).
        public init(actionQPS: [String: Int] = [:], throttleNext: [String: Int] = [:]) {
            self.actionQPS = actionQPS
            self.throttleNext = throttleNext
        }

        /// The per-account QPS limits the platform documents for the actions `iotbridge migrate` calls
        /// (reference §6.1–§6.4): consumer groups and subscribe relations 5, rules 50 (`ListRule` 20),
        /// data-source items 10. Actions whose limit is not documented are left out.
        public static let platformQPS: [String: Int] = [
            "CreateConsumerGroup": 5, "QueryConsumerGroupList": 5, "QueryConsumerGroupByGroupId": 5,
            "DeleteConsumerGroup": 5, "QueryConsumerGroupStatus": 5,
            "CreateSubscribeRelation": 5, "UpdateSubscribeRelation": 5, "QuerySubscribeRelation": 5,
            "DeleteSubscribeRelation": 5,
            "CreateRule": 50, "GetRule": 50, "StartRule": 50, "StopRule": 50, "DeleteRule": 50, "ListRule": 20,
            "CreateRuleAction": 50, "ListRuleActions": 50,
            "CreateDataSourceItem": 10, "ListDataSourceItem": 10,
        ]

        /// `off`, or the limits in force.
        public var description: String {
            self.actionQPS.isEmpty && self.throttleNext.isEmpty
                ? "off" : "qps: \(self.actionQPS.sorted { $0.key < $1.key }), next: \(self.throttleNext)"
        }
    }
}
