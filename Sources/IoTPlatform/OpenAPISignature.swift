//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Crypto
import Foundation

/// The Alibaba Cloud RPC signature, SignatureVersion 1.0 with HMAC-SHA1 (reference §6.6).
///
/// ```swift
/// let signature = OpenAPISignature.sign(method: "POST", parameters: params, accessKeySecret: secret)
/// ```
public enum OpenAPISignature {
    /// The characters RFC 3986 leaves unencoded.
    private static let unreserved: Set<UInt8> = Set(
        Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~".utf8)
    )

    /// Percent-encodes UTF-8 bytes the way the signature needs: everything but `A–Z a–z 0–9 - _ . ~` becomes `%XY`
    /// with upper-case hex, and a space is `%20`, not `+`.
    public static func percentEncode(_ value: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(value.utf8.count)
        for byte in value.utf8 {
            if Self.unreserved.contains(byte) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The parameters, without `Signature`, sorted by name and joined as encoded `k=v` pairs with `&`.
    public static func canonicalizedQuery(_ parameters: [String: String]) -> String {
        // Sorting by the byte order of the names is the doc's "lexicographic order".
        parameters
            .filter { $0.key != "Signature" }
            .sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
            .map { "\(Self.percentEncode($0.key))=\(Self.percentEncode($0.value))" }
            .joined(separator: "&")
    }

    /// `HTTPMethod & percentEncode("/") & percentEncode(CanonicalizedQueryString)`.
    public static func stringToSign(method: String, parameters: [String: String]) -> String {
        "\(method.uppercased())&\(Self.percentEncode("/"))&\(Self.percentEncode(Self.canonicalizedQuery(parameters)))"
    }

    /// `Base64(HMAC-SHA1(key: AccessKeySecret + "&", StringToSign))`, not yet percent-encoded.
    public static func sign(method: String, parameters: [String: String], accessKeySecret: String) -> String {
        let key = SymmetricKey(data: Data((accessKeySecret + "&").utf8))
        let data = Data(Self.stringToSign(method: method, parameters: parameters).utf8)
        return Data(HMAC<Insecure.SHA1>.authenticationCode(for: data, using: key)).base64EncodedString()
    }

    /// The timestamp format the API wants: UTC `YYYY-MM-DDThh:mm:ssZ`.
    public static func timestamp(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = seconds.quotientAndRemainder(dividingBy: 86_400)
        let (year, month, day) = Self.civil(fromDays: days.quotient)
        let rest = days.remainder
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02dZ",
            year,
            month,
            day,
            Int(rest / 3600),
            Int(rest % 3600 / 60),
            Int(rest % 60)
        )
    }

    /// Howard Hinnant's days-to-civil algorithm: avoids Foundation's locale-dependent date formatters.
    private static func civil(fromDays days: Int64) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }
}
