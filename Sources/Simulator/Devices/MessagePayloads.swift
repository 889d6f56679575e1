//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import RuleSQL

/// The topics and JSON bodies the platform forwards for each kind of device message, shaped as reference §2.2–2.3
/// shows them. Built as text (keys in the reference's order, so a person comparing them with the documentation
/// sees the same thing); product keys and device names are checked by the configuration to need no escaping.
public enum MessagePayloads {
    /// The forwarding topic of a message kind.
    public static func topic(_ kind: SimulatedMessageKind, _ device: SimulatedDevice) -> String {
        switch kind {
        case .custom: "/\(device.productKey)/\(device.deviceName)/user/update"
        case .property: "/\(device.productKey)/\(device.deviceName)/thing/event/property/post"
        case .status: "/as/mqtt/status/\(device.productKey)/\(device.deviceName)"
        }
    }

    /// A custom-topic payload: `{"deviceName":…,"seq":…,"temperature":…,"humidity":…}`.
    public static func custom(_ device: SimulatedDevice, sequence: UInt64, time: Int64) -> [UInt8] {
        let temperature = 20 + Double(sequence % 100) / 10
        let humidity = 40 + Int(sequence % 30)
        return Array(
            "{\"deviceName\":\"\(device.deviceName)\",\"seq\":\(sequence),\"time\":\(time),\"temperature\":\(temperature),\"humidity\":\(humidity)}".utf8
        )
    }

    /// A converted TSL property post (reference §2.3), with `iotId`, `requestId`, `items` and an empty
    /// `checkFailedData`.
    public static func propertyPost(_ device: SimulatedDevice, sequence: UInt64, time: Int64) -> [UInt8] {
        let power = sequence % 2 == 0 ? "on" : "off"
        let temperature = 20 + Double(sequence % 100) / 10
        return Array(
            ("{\"iotId\":\"\(self.iotId(device))\",\"requestId\":\"\(sequence)\",\"productKey\":\"\(device.productKey)\","
                + "\"deviceName\":\"\(device.deviceName)\",\"gmtCreate\":\(time),\"deviceType\":\"CustomCategory\","
                + "\"items\":{\"Power\":{\"value\":\"\(power)\",\"time\":\(time)},"
                + "\"Temperature\":{\"value\":\(temperature),\"time\":\(time)}},\"checkFailedData\":{}}").utf8
        )
    }

    /// A device status notice (reference §2.3): local times in UTC+8 as in the documentation's examples, UTC
    /// times with `Z`; `lastTime` is the last communication, here one second before.
    public static func status(_ device: SimulatedDevice, online: Bool, time: Int64, clientIp: String = "127.0.0.1") -> [UInt8] {
        let last = time - 1000
        return Array(
            ("{\"status\":\"\(online ? "online" : "offline")\",\"productKey\":\"\(device.productKey)\","
                + "\"deviceName\":\"\(device.deviceName)\",\"time\":\"\(self.localTime(time))\",\"utcTime\":\"\(self.utcTime(time))\","
                + "\"lastTime\":\"\(self.localTime(last))\",\"utcLastTime\":\"\(self.utcTime(last))\",\"clientIp\":\"\(clientIp)\"}").utf8
        )
    }

    /// A stable, platform-looking iotId for a device (28 characters).
    public static func iotId(_ device: SimulatedDevice) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in device.description.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        var text = ""
        var value = hash
        for _ in 0..<20 {
            text.append(alphabet[Int(value % UInt64(alphabet.count))])
            value = value / UInt64(alphabet.count) ^ (value &* 31)
        }
        return text + device.productKey.prefix(8)
    }

    private static func utcTime(_ millis: Int64) -> String {
        self.format(millis, offsetHours: 0) + "Z"
    }

    private static func localTime(_ millis: Int64) -> String {
        self.format(millis, offsetHours: 8).replacingOccurrences(of: "T", with: " ")
    }

    /// `yyyy-MM-ddTHH:mm:ss.SSS` of a UTC instant shifted by whole hours (civil-from-days arithmetic, no
    /// formatter: a DateFormatter per message would cost more than the rest of the message).
    private static func format(_ millis: Int64, offsetHours: Int64) -> String {
        let shifted = millis + offsetHours * 3_600_000
        let days = Int64((Double(shifted) / 86_400_000).rounded(.down))
        let inDay = shifted - days * 86_400_000
        let (civilYear, civilMonth, civilDay) = CivilDate.fromDays(Int(days))
        let (year, month, day) = (Int64(civilYear), Int64(civilMonth), Int64(civilDay))
        func pad(_ value: Int64, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(inDay / 3_600_000, 2)):\(pad(inDay / 60_000 % 60, 2)):"
            + "\(pad(inDay / 1000 % 60, 2)).\(pad(inDay % 1000, 3))"
    }
}
