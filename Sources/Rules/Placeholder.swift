//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// Placeholder so the target builds before its first real file lands; delete it then.
enum RulesModulePlaceholder {}
