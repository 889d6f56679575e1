//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Simulator

/// The files `iotbridge demo` writes into its work folder — the same `migration.yaml` and `bridge.yaml` an operator
/// would write for a real migration, pointed at the simulated instances — so that the demo runs the real loaders
/// and a person can read what it ran. Secrets are `${ENV}` references only.
enum DemoFiles {
    /// The environment variable holding the simulated AccessKey's secret (set in the demo's process only).
    static let secretVariable = "IOTBRIDGE_DEMO_SECRET"

    /// `migration.yaml`: both sides `kind: sim` on the simulator's OpenAPI endpoint; the MNS subscription becomes
    /// an AMQP one on `{productKey}_amqp`.
    static func migrationYAML(openAPIPort: Int) -> String {
        """
        # Written by iotbridge demo: the simulated legacy source → the simulated Enterprise target.
        source:
          kind: sim
          endpoint: http://127.0.0.1:\(openAPIPort)
          regionId: \(DemoScenario.regionId)
          iotInstanceId: ""
          accessKeyId: \(DemoScenario.accessKeyId)
          accessKeySecret: ${\(Self.secretVariable)}
        target:
          kind: sim
          endpoint: http://127.0.0.1:\(openAPIPort)
          regionId: \(DemoScenario.regionId)
          iotInstanceId: \(DemoScenario.targetInstanceId)
          accessKeyId: \(DemoScenario.accessKeyId)
          accessKeySecret: ${\(Self.secretVariable)}
        options:
          consumerGroupNaming: "{name}"
          translationConsumerGroup: "{productKey}_amqp"

        """
    }

    /// One upstream of `bridge.yaml`: an aksign login to a consumer group of a simulated instance.
    struct Upstream {
        var name: String
        var url: String
        var caFile: String
        var iotInstanceId: String
        var consumerGroupId: String
    }

    /// `bridge.yaml`: every consumer group the backend reads, on both instances; one JSON-lines sink (the demo's
    /// backend); the state in the work folder; the HTTP server on any free port.
    static func bridgeYAML(upstreams: [Upstream], sink: String, state: String) -> String {
        var text = """
            # Written by iotbridge demo: both simulated instances in, one de-duplicated stream out.
            state: \(state)
            upstreams:

            """
        for upstream in upstreams {
            text += """
                  - name: \(upstream.name)
                    url: \(upstream.url)
                    tls: { caFile: "\(upstream.caFile)", serverName: localhost }
                    auth: { kind: aksign, accessKeyId: \(DemoScenario.accessKeyId), accessKeySecret: "${\(Self.secretVariable)}",
                            consumerGroupId: \(upstream.consumerGroupId), iotInstanceId: "\(upstream.iotInstanceId)", clientIdPrefix: demo }

                """
        }
        text += """
            sinks:
              - { name: backend, kind: jsonl, path: "\(sink)" }
            http: { listen: "127.0.0.1:0" }
            shutdown: { deadline: 5s }

            """
        return text
    }
}
