//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Migration
import Simulator
import Testing

/// `sim.yaml` is read strictly: every problem with its `file:line:col`, none of them fatal to the others.
@Suite struct SimulatorConfigurationReaderTests {
    let reader = SimulatorConfigurationReader(environment: ["SIM_SECRET": "s3cret"])

    static let valid = """
        accessKeys:
          - { accessKeyId: LTAIsim, accessKeySecret: "${SIM_SECRET}" }
        instances:
          - name: source
            kind: legacy
            amqp: { port: 0, tls: plain, ackTimeout: 2s, retention: { maxAge: 10m, maxCount: 50 } }
            consumerGroups: [ { id: cg-source } ]
            subscriptions:
              - { productKey: a1Sim, flags: [DeviceDataFlag], consumerGroups: [cg-source] }
          - name: target
            kind: enterprise
            iotInstanceId: iot-06z00target
        devices:
          products: [ { productKey: a1Sim, count: 3 }, { productKey: b2Sim, names: [pump-a] } ]
          home: source
          rate: 50
          mix: { custom: 2, property: 1, status: 0 }
        migration: { source: source, target: target, syncWindow: 45s }
        """

    @Test func aValidFileGivesEveryValue() throws {
        let result = self.reader.load(text: Self.valid, file: "/tmp/sim.yaml")
        #expect(result.errors.isEmpty)
        let configuration = try #require(result.configuration)
        #expect(configuration.instances.map(\.name) == ["source", "target"])
        let source = configuration.instances[0]
        #expect(source.identity.iotInstanceId == nil)
        #expect(source.amqp.ackTimeout == .seconds(2))
        #expect(source.amqp.attachTimeout == .seconds(15))
        #expect(source.amqp.retention.maxAge == .seconds(600))
        #expect(source.amqp.retention.maxCount == 50)
        #expect(source.snapshot.subscriptions.first?.consumerGroupIds == ["cg-source"])
        #expect(configuration.instances[1].identity.iotInstanceId == "iot-06z00target")
        #expect(configuration.devices.devices.map(\.description) == ["a1Sim/device-0001", "a1Sim/device-0002", "a1Sim/device-0003", "b2Sim/pump-a"])
        #expect(configuration.devices.traffic.rate == 50)
        #expect(configuration.devices.traffic.mix[.custom] == 2)
        #expect(configuration.migration?.syncWindow == .seconds(45))
    }

    @Test func everyProblemIsReportedWithItsLineAndColumn() {
        let text = """
            accessKeys:
              - { accessKeyId: LTAIsim, accessKeySecret: "${NOT_SET}" }
            instances:
              - name: source
                kind: legacy
                amqp: { prot: 5671 }
                consumerGroups: [ { id: cg-source } ]
                subscriptions:
                  - { productKey: a1Sim, flags: [DeviceDataFlg], consumerGroups: [cg-other] }
            devices:
              products: [ { productKey: a1Sim } ]
              home: nowhere
              rate: fast
            """
        let result = self.reader.load(text: text, file: "sim.yaml")
        #expect(result.configuration == nil)
        let expected = [
            "sim.yaml:2:46: error: accessKeySecret: the environment variable NOT_SET is not set",
            "sim.yaml:6:13: error: unknown key 'prot' in amqp; did you mean 'port'? (known keys: port, tls, ackTimeout, attachTimeout, retention)",
            "sim.yaml:9:38: error: unknown flag 'DeviceDataFlg'",
            "sim.yaml:9:71: error: consumer group 'cg-other' is not one of this instance's consumerGroups",
            "sim.yaml:11:15: error: a product needs 'count' (how many devices) or 'names'",
            "sim.yaml:12:9: error: home 'nowhere' is not an instance; use one of source",
            "sim.yaml:13:9: error: rate must be a positive number, not 'fast'",
        ]
        for (index, prefix) in expected.enumerated() {
            #expect(result.errors.count > index && result.errors[index].hasPrefix(prefix), "\(result.errors)")
        }
        #expect(result.errors.count == expected.count, "\(result.errors)")
    }

    /// Issue 13: every config file names the closest key and shows the source line with a caret, in file order,
    /// without echoing a line that may hold a secret; a file that is not UTF-8 is refused, not decoded with U+FFFD.
    @Test func aMisspeltKeyGetsTheClosestKeyTheSourceLineAndACaret() throws {
        let text = """
            instances:
              - name: source
                kind: legacy
                consumerGroup: [ { id: cg } ]
            devics: {}
            accessKeys: [ { accessKeyId: LTAIsim, accessKeySecret: t0p-s3cret, extra: 1 } ]
            """
        let errors = self.reader.load(text: text, file: "sim.yaml").errors
        #expect(
            errors == [
                "sim.yaml:1:1: error: the configuration needs 'devices'\n    instances:\n    ^",
                "sim.yaml:4:5: error: unknown key 'consumerGroup' in an instance; did you mean 'consumerGroups'? (known keys: "
                    + "name, kind, iotInstanceId, regionId, amqp, consumerGroups, subscriptions)\n"
                    + "        consumerGroup: [ { id: cg } ]\n        ^~~~~~~~~~~~~",
                "sim.yaml:5:1: error: unknown key 'devics' in the configuration; did you mean 'devices'? (known keys: "
                    + "listen, accessKeys, instances, devices, migration, openapi)\n    devics: {}\n    ^~~~~~",
                "sim.yaml:6:68: error: unknown key 'extra' in an access key (known keys: accessKeyId, accessKeySecret)",
            ],
            "\(errors)"
        )
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sim-reader-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data([0x6C, 0x69, 0x73, 0x74, 0x65, 0x6E, 0x3A, 0x20, 0xFF, 0x0A]).write(to: folder.appendingPathComponent("binary.yaml"))
        let binary = self.reader.load(path: folder.appendingPathComponent("binary.yaml").path).errors
        #expect(binary.count == 1 && binary[0].hasSuffix("it is not UTF-8 text (invalid byte at offset 8)"), "\(binary)")
        let missing = self.reader.load(path: folder.appendingPathComponent("missing.yaml").path).errors
        #expect(missing.count == 1 && missing[0].contains(": error: cannot read the configuration file '"), "\(missing)")
        #expect(missing.first?.contains("the file does not exist") == true, "\(missing)")
    }

    @Test func aSyntaxErrorNamesItsPlace() {
        let result = self.reader.load(text: "instances: [ { name: a\n", file: "bad.yaml")
        #expect(result.configuration == nil)
        #expect(result.errors.count == 1)
        #expect(result.errors.first?.hasPrefix("bad.yaml:") == true)
        #expect(result.errors.first?.contains("not valid YAML") == true)
    }

    @Test func theCommittedExampleIsValid() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let result = SimulatorConfigurationReader(environment: ["SIM_ACCESS_KEY_SECRET": "x"])
            .load(path: root.appendingPathComponent("docs/examples/sim.yaml").path)
        #expect(result.errors.isEmpty, "\(result.errors)")
        #expect(result.configuration?.instances.count == 2)
        #expect(result.configuration?.migration?.target == "target")
    }
}
