//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import RuleSQL
import Rules
import Yams

extension ConfigReader {
    /// `events: { recognize, migrationTopic, sinks }`.
    mutating func events(_ node: Node?) -> EventsSettings {
        var settings = EventsSettings()
        guard let node else { return settings }
        guard let fields = self.decoder.fields(node, "events", known: ["recognize", "migrationTopic", "sinks"]) else {
            return settings
        }
        settings.recognize = self.bool(fields, "recognize") ?? settings.recognize
        if let text = self.decoder.string(fields, "migrationTopic", required: false) {
            do {
                settings.migrationTopic = try TopicFilter(text)
            } catch {
                self.decoder.error(
                    "'migrationTopic' is not a topic filter: \(error.message)",
                    at: fields["migrationTopic"]
                )
            }
        }
        if let list = self.list(fields, "sinks", required: false) {
            for item in list {
                // The same kinds and keys as the stream's sinks (a `listener` link named `migration-events` is
                // the listener's to serve, issue 9).
                if let sink = self.sink(item, what: "an event sink") {
                    self.checkEventSink(sink, at: item)
                    settings.sinks.append(sink)
                }
            }
            self.checkUnique(settings.sinks.map(\.name), in: fields["sinks"], what: "event sink")
        }
        return settings
    }
}
