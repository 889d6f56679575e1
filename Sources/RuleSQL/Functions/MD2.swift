//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// MD2 (RFC 1319), which `crypto(field, 'MD2')` offers and swift-crypto does not.
enum MD2 {
    /// The substitution table built from the digits of pi (RFC 1319, section 3.2).
    private static let table: [UInt8] = [
        41, 46, 67, 201, 162, 216, 124, 1, 61, 54, 84, 161, 236, 240, 6, 19, 98, 167, 5, 243, 192, 199, 115, 140,
        152, 147, 43, 217, 188, 76, 130, 202, 30, 155, 87, 60, 253, 212, 224, 22, 103, 66, 111, 24, 138, 23, 229, 18,
        190, 78, 196, 214, 218, 158, 222, 73, 160, 251, 245, 142, 187, 47, 238, 122, 169, 104, 121, 145, 21, 178, 7,
        63, 148, 194, 16, 137, 11, 34, 95, 33, 128, 127, 93, 154, 90, 144, 50, 39, 53, 62, 204, 231, 191, 247, 151,
        3, 255, 25, 48, 179, 72, 165, 181, 209, 215, 94, 146, 42, 172, 86, 170, 198, 79, 184, 56, 210, 150, 164, 125,
        182, 118, 252, 107, 226, 156, 116, 4, 241, 69, 157, 112, 89, 100, 113, 135, 32, 134, 91, 207, 101, 230, 45,
        168, 2, 27, 96, 37, 173, 174, 176, 185, 246, 28, 70, 97, 105, 52, 64, 126, 15, 85, 71, 163, 35, 221, 81, 175,
        58, 195, 92, 249, 206, 186, 197, 234, 38, 44, 83, 13, 110, 133, 40, 132, 9, 211, 223, 205, 244, 65, 129, 77,
        82, 106, 220, 55, 200, 108, 193, 171, 250, 36, 225, 123, 8, 12, 189, 177, 74, 120, 136, 149, 139, 227, 99,
        232, 109, 233, 203, 213, 254, 59, 0, 29, 57, 242, 239, 183, 14, 102, 88, 208, 228, 166, 119, 114, 248, 235,
        117, 75, 10, 49, 68, 80, 180, 143, 237, 31, 26, 219, 153, 141, 51, 159, 17, 131, 20,
    ]

    /// The 16-byte MD2 digest of `message`.
    static func hash(_ message: [UInt8]) -> [UInt8] {
        // Pad to a multiple of 16 with `n` bytes of value `n` (always at least one byte).
        let padding = 16 - message.count % 16
        var data = message + [UInt8](repeating: UInt8(padding), count: padding)
        // Append the checksum.
        var checksum = [UInt8](repeating: 0, count: 16)
        var last: UInt8 = 0
        for block in stride(from: 0, to: data.count, by: 16) {
            for j in 0..<16 {
                checksum[j] ^= Self.table[Int(data[block + j] ^ last)]
                last = checksum[j]
            }
        }
        data += checksum
        // Process 16-byte blocks into a 48-byte state.
        var state = [UInt8](repeating: 0, count: 48)
        for block in stride(from: 0, to: data.count, by: 16) {
            for j in 0..<16 {
                state[16 + j] = data[block + j]
                state[32 + j] = state[16 + j] ^ state[j]
            }
            var t: UInt8 = 0
            for round in 0..<18 {
                for k in 0..<48 {
                    state[k] ^= Self.table[Int(t)]
                    t = state[k]
                }
                t = t &+ UInt8(round)
            }
        }
        return Array(state[0..<16])
    }
}
