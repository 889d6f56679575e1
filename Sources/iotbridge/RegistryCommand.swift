//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import Events
import Foundation
import Logging
import PostgresStateStore
import Rules
import StateStore

/// `iotbridge registry`: which instance each device lives on (device → `IotInstanceId`).
struct RegistryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registry",
        abstract: "Ask and seed the instance registry: which instance each device lives on.",
        discussion: """
            The registry maps productKey/deviceName to the IotInstanceId every API call about the device needs. \
            It lives in the state store (the bridge's `state:` file, default bridge.sqlite); the bridge updates \
            it from the platform's migration messages and emits a migration-status event per change.

            Examples:
              iotbridge registry import --csv devices.csv --state bridge.sqlite
              iotbridge registry lookup a1PK/sensor-01 --state bridge.sqlite
              iotbridge registry status --product a1PK --silent-after 600 \\
                  --state bridge.sqlite
              iotbridge registry export --state bridge.sqlite > registry.csv
            """,
        subcommands: [Lookup.self, Import.self, Export.self, Status.self]
    )

    /// The state store option every subcommand shares.
    struct StoreOptions: ParsableArguments {
        @Option(
            help: ArgumentHelp(
                "The state store that holds the registry: a SQLite file, or the replicas' PostgreSQL.",
                discussion: """
                    PostgreSQL as in bridge.yaml, with the password as an environment reference in single quotes \
                    (so that the shell leaves it alone), e.g. 'postgres://bridge:${PGPASSWORD}@db:5432/iotbridge'.
                    """,
                valueName: "file-or-url"
            )
        )
        var state: String = "bridge.sqlite"

        /// Opens the store; an absent file is an error unless `create`. A PostgreSQL store's pool runs until the
        /// command ends.
        func open(create: Bool = false) throws -> any InstanceRegistryStore & EventOutbox {
            if PostgresLocation.isURL(self.state) {
                return try Self.open(postgres: try Self.location(self.state))
            }
            guard create || FileManager.default.fileExists(atPath: self.state) else {
                throw CommandFailure(
                    "state store \(self.state) does not exist (pass --state FILE, the bridge's state:)"
                )
            }
            do {
                return try SQLiteStateStore(path: self.state)
            } catch {
                throw CommandFailure("\(error)")
            }
        }

        /// The PostgreSQL store at `location`, its pool running for the rest of the command.
        static func open(postgres location: PostgresLocation) throws -> PostgresClaimStore {
            let store: PostgresClaimStore
            do {
                store = try PostgresClaimStore(location: location, logger: Logger(label: "iotbridge.registry"))
            } catch {
                throw CommandFailure("state \(location): \(error)")
            }
            Task { await store.run() }
            return store
        }

        /// `postgres://USER:${VAR}@HOST/DB`: the password from the environment variable, never from the text
        /// (parsed as bridge.yaml's and migration.yaml's `state:`).
        static func location(_ text: String) throws -> PostgresLocation {
            do {
                return try PostgresLocation(configured: text, key: "--state", environment: ProcessInfo.processInfo.environment)
            } catch {
                throw CommandFailure("--state: \(error)")
            }
        }
    }

    /// `iotbridge registry lookup PK/DN`.
    struct Lookup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the IotInstanceId a device lives on; exit 1 if the registry does not know it.",
            discussion: """
                Prints the instance ID alone on a line (an empty line for the legacy public instance, which has \
                no ID), or with --json the whole row.

                Examples:
                  iotbridge registry lookup a1PK/sensor-01 --state bridge.sqlite
                  iotbridge registry lookup a1PK/sensor-01 --state bridge.sqlite \\
                      --json
                """
        )

        @Argument(help: "The device, as productKey/deviceName.")
        var device: String

        @Flag(help: "Print the row as JSON (instance, source, updatedAt, migrationId, sequence).")
        var json = false

        @OptionGroup var store: StoreOptions

        func run() async throws {
            try await CommandFailure.reporting {
                guard let device = DeviceKey(parsing: self.device) else {
                    throw CommandFailure("\"\(self.device)\" is not productKey/deviceName")
                }
                let store = try self.store.open()
                guard let record = try await store.lookup(device) else {
                    FileHandle.standardError.write(Data("\(device) is not in the registry \(self.store.state)\n".utf8))
                    throw ExitCode(1)
                }
                if self.json {
                    print(RegistryJSON.line(record))
                } else {
                    print(record.iotInstanceId)
                }
            }
        }
    }

    /// `iotbridge registry import --csv FILE`.
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Seed the registry with every device on its source instance.",
            discussion: """
                The CSV has the columns productKey,deviceName,iotInstanceId (header line optional; an empty \
                iotInstanceId is the legacy public instance). A device the registry already knows keeps its row, \
                so importing again never moves a migrated device back.

                Example:
                  iotbridge registry import --csv devices.csv --state bridge.sqlite
                """
        )

        @Option(help: "The CSV file: productKey,deviceName,iotInstanceId.")
        var csv: String

        @OptionGroup var store: StoreOptions

        /// Devices per transaction: large enough to amortise the commit, small enough to bound memory per write.
        static let batch = 10_000

        func run() async throws {
            try await CommandFailure.reporting {
                let text: String
                do {
                    text = try TextFile.read(self.csv, what: "--csv")
                } catch {
                    throw CommandFailure("\(error)")
                }
                let seeds: [RegistrySeed]
                do {
                    seeds = try RegistryCSV.parse(text, file: self.csv)
                } catch {
                    throw CommandFailure("\(error)")
                }
                let store = try self.store.open(create: true)
                let now = Int64(Date().timeIntervalSince1970 * 1000)
                var added = 0
                var start = 0
                while start < seeds.count {
                    let end = min(start + Self.batch, seeds.count)
                    added += try await store.seed(Array(seeds[start..<end]), at: now)
                    start = end
                }
                print("\(seeds.count) device(s) read, \(added) new, \(seeds.count - added) already known")
            }
        }
    }

    /// `iotbridge registry export`.
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the registry as CSV (productKey,deviceName,iotInstanceId) to standard output.",
            discussion: """
                Examples:
                  iotbridge registry export --state bridge.sqlite > registry.csv
                  iotbridge registry export --product a1PK --state bridge.sqlite
                """
        )

        @Option(help: "Only this product's devices.")
        var product: String?

        @OptionGroup var store: StoreOptions

        func run() async throws {
            try await CommandFailure.reporting {
                let store = try self.store.open()
                var output = RegistryCSV.header + "\n"
                var after: DeviceKey?
                while true {
                    let page = try await store.records(product: self.product, after: after, limit: 10_000)
                    for record in page {
                        output += RegistryCSV.line(record)
                        output += "\n"
                    }
                    FileHandle.standardOutput.write(Data(output.utf8))
                    output = ""
                    guard let last = page.last else { break }
                    after = last.device
                }
            }
        }
    }

    /// `iotbridge registry status`.
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Grayscale verification: per product, which devices report where; exit 1 if one is silent.",
            discussion: """
                For each product: devices migrated and reporting on the target, migrated but silent since, still \
                on the source, and reporting on both instances. Then the devices that need attention, with the \
                last time each was seen on either instance. Exits 1 when a migrated device has been silent on its \
                new instance for longer than --silent-after.

                Examples:
                  iotbridge registry status --state bridge.sqlite
                  iotbridge registry status --product a1PK --silent-after 300 \\
                      --state bridge.sqlite
                """
        )

        @Option(help: "Only this product's devices.")
        var product: String?

        @Option(help: "Seconds a migrated device may stay silent on its new instance.")
        var silentAfter: Int = 600

        @Option(help: "Devices to list individually at most.")
        var limit: Int = 50

        @OptionGroup var store: StoreOptions

        func run() async throws {
            try await CommandFailure.reporting {
                let store = try self.store.open()
                let now = Int64(Date().timeIntervalSince1970 * 1000)
                var report = RegistryStatusReport(
                    now: now,
                    silenceThreshold: Int64(self.silentAfter) * 1000,
                    attentionLimit: self.limit
                )
                var after: DeviceKey?
                while true {
                    let page = try await store.activity(product: self.product, after: after, limit: 5_000)
                    report.add(page)
                    guard let last = page.last else { break }
                    after = last.record.device
                }
                print(RegistryStatusText.render(report), terminator: "")
                if report.hasSilentDevices { throw ExitCode(1) }
            }
        }
    }
}

/// A failure of a command: printed as `error: …`, exit status 2.
struct CommandFailure: Error, CustomStringConvertible {
    /// What went wrong, and where.
    var description: String

    init(_ description: String) {
        self.description = description
    }

    /// Runs `body`, printing a ``CommandFailure`` as `error: …` and exiting 2; other errors (an `ExitCode`) pass.
    static func reporting(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let failure as CommandFailure {
            FileHandle.standardError.write(Data("error: \(failure.description)\n".utf8))
            throw ExitCode(2)
        } catch let error as StateStoreError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}

/// The one-line JSON of a registry row.
enum RegistryJSON {
    /// A JSON string literal.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case _ where scalar.value < 0x20: result += String(format: "\\u%04x", scalar.value)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }

    /// The row as one line of JSON.
    static func line(_ record: RegistryRecord) -> String {
        let members = [
            "\"productKey\":\(quoted(record.device.productKey))",
            "\"deviceName\":\(quoted(record.device.deviceName))",
            "\"iotInstanceId\":\(quoted(record.iotInstanceId))",
            "\"sourceInstanceId\":\(quoted(record.sourceInstanceId))",
            "\"updatedAt\":\(record.updatedAt)",
            "\"migrationId\":\(quoted(record.migrationId))",
            "\"sequence\":\(record.sequence)",
        ]
        return "{" + members.joined(separator: ",") + "}"
    }
}

/// The text of `registry status`.
enum RegistryStatusText {
    static func render(_ report: RegistryStatusReport) -> String {
        var text = ""
        if report.products.isEmpty {
            text += "no devices in the registry\n"
        }
        for product in report.products {
            let counts = RegistryStatusReport.DeviceState.allCases.map { "\(product.counts[$0] ?? 0) \($0.rawValue)" }
            text += "\(product.productKey): " + counts.joined(separator: ", ")
            text += product.silentTooLong > 0 ? " — \(product.silentTooLong) silent beyond the threshold\n" : "\n"
        }
        for device in report.attention {
            let seen = device.lastSeen.map { MigrationEventTime.text($0) } ?? "never"
            let instance = device.record.iotInstanceId.isEmpty ? "(legacy public)" : device.record.iotInstanceId
            text += "  \(device.record.device) on \(instance): \(device.state.rawValue), last seen \(seen)"
            text += device.silentTooLong ? " (silent beyond the threshold)\n" : "\n"
        }
        return text
    }
}
