//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Simulator
import Testing

/// Keeps the test target non-empty until the simulator's own suites land beside it.
@Suite struct SimulatorModuleTests {
    @Test func theModuleIsLinked() {
        #expect(String(describing: Simulator.self) == "Simulator")
    }
}
