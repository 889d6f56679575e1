//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import StateStore
import Testing

@Suite struct ClaimKeyTests {
    @Test func descriptionShowsTheFirstBytesInHex() {
        let key = ClaimKey(key: [0x00, 0x0f, 0xa0, 0xff, 1, 2, 3, 4], contentDigest: 7)
        #expect(key.description == "000fa0ff0102")
    }
}
