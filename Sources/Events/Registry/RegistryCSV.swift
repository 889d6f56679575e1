//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import StateStore

/// The registry's CSV: `productKey,deviceName,iotInstanceId`, one device a line, header line optional.
///
/// Our own few lines rather than a CSV library: product keys, device names and instance IDs never contain a comma,
/// a quote or a line break (the platform allows letters, digits and `-_@.:` in device names), so a field is the text
/// between commas; a quoted field is accepted and unquoted. The instance ID may be empty: the legacy public
/// instance has none.
public enum RegistryCSV {
    /// The header line `export` writes and `import` skips.
    public static let header = "productKey,deviceName,iotInstanceId"

    /// Parses the whole text; throws at the first bad line, naming `file:line`.
    public static func parse(_ text: String, file: String) throws(RegistryCSVError) -> [RegistrySeed] {
        var seeds: [RegistrySeed] = []
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = Substring(rawLine)
            if line.last == "\r" { line = line.dropLast() }
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(Self.unquote)
            if lineNumber == 1, fields.map({ $0.lowercased() }) == ["productkey", "devicename", "iotinstanceid"] {
                continue
            }
            guard fields.count == 3 else {
                throw RegistryCSVError(
                    file: file,
                    line: lineNumber,
                    message: "expected 3 fields (\(Self.header)), found \(fields.count)"
                )
            }
            guard !fields[0].isEmpty, !fields[1].isEmpty else {
                throw RegistryCSVError(
                    file: file,
                    line: lineNumber,
                    message: "productKey and deviceName must not be empty"
                )
            }
            guard !fields[1].contains("/") else {
                throw RegistryCSVError(
                    file: file,
                    line: lineNumber,
                    message: "deviceName \"\(fields[1])\" contains '/'"
                )
            }
            seeds.append(
                RegistrySeed(
                    device: DeviceKey(productKey: fields[0], deviceName: fields[1]),
                    iotInstanceId: fields[2]
                )
            )
        }
        return seeds
    }

    /// One CSV line (without its line break) of a record.
    public static func line(_ record: RegistryRecord) -> String {
        "\(record.device.productKey),\(record.device.deviceName),\(record.iotInstanceId)"
    }

    private static func unquote(_ field: Substring) -> String {
        let trimmed = field.trimmingPrefix(while: { $0 == " " })
        var text = String(trimmed.reversed().drop(while: { $0 == " " }).reversed())
        if text.count >= 2, text.first == "\"", text.last == "\"" {
            text = String(text.dropFirst().dropLast())
        }
        return text
    }
}

/// A bad line of a registry CSV.
public struct RegistryCSVError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file.
    public var file: String
    /// The 1-based line.
    public var line: Int
    /// What is wrong.
    public var message: String

    /// `file:line: message`.
    public var description: String { "\(self.file):\(self.line): \(self.message)" }
}
