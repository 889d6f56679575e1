//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import HTTPServer
import Testing

@testable import Bridge

/// The terminal view (`iotbridge status`, `iotbridge demo`): snapshots → rates → lines, from fixed `/status`
/// documents, and the bridge's own report read back by the view's decoder.
@Suite struct StatusBoardTests {
    /// A `/status` document with the given counters (the shape `Bridge.renderStatus` writes).
    static func document(
        run: String = "run-a",
        uptime: Double,
        source: Int,
        target: Int,
        sourceDuplicates: Int,
        forwarded: Int,
        delivered: Int,
        devices: String? = #"{"known":200,"migrated":67}"#,
        extra: String = ""
    ) -> [UInt8] {
        let registry = devices.map { #","devices":\#($0),"events":{"emitted":70,"pending":2}"# } ?? ""
        let text = #"""
            {"state":"flowing","run":"\#(run)","time":1790000000000,"uptimeSeconds":\#(uptime),
             "upstreams":[
               {"name":"source","state":"flowing","connectionsOpen":2,"connections":2,"received":\#(source),"duplicates":\#(sourceDuplicates),"duplicatesOf":{}},
               {"name":"target","state":"stalled","connectionsOpen":1,"connections":1,"received":\#(target),"duplicates":0,"lastError":"idle"}],
             "merged":{"forwarded":\#(forwarded),"duplicatesDropped":\#(sourceDuplicates)},
             "inFlight":12,"settled":5,"filtered":0,"deadLettered":{"refused":1},
             "sinks":[{"name":"merged","state":"retrying","inFlight":30,"confirmed":\#(delivered),"refused":1,"retries":4},
                      {"name":"deadLetter","state":"flowing","inFlight":0,"confirmed":1,"refused":0,"retries":0}],
             "heldBackBy":"merged"\#(registry)\#(extra)}
            """#
        return Array(text.utf8)
    }

    @Test func ratesAreCounterDifferencesOverTheBridgesClock() throws {
        let before = try StatusSnapshot(json: Self.document(uptime: 10, source: 1000, target: 200, sourceDuplicates: 50, forwarded: 1100, delivered: 1000))
        let after = try StatusSnapshot(json: Self.document(uptime: 12, source: 2000, target: 600, sourceDuplicates: 150, forwarded: 2300, delivered: 2000))
        let rates = StatusRates(current: after, previous: before)
        #expect(rates.received == ["source": 500, "target": 200])
        #expect(rates.duplicates == ["source": 50, "target": 0])
        #expect(rates.forwarded == 600)
        #expect(rates.receivedTotal == 700)
        #expect(rates.duplicatesDropped == 50)
        #expect(rates.delivered["merged"] == 500)
    }

    @Test func noRatesWithoutAnEarlierSnapshotOfTheSameRunOrWhenACounterWentBack() throws {
        let first = try StatusSnapshot(json: Self.document(uptime: 10, source: 1000, target: 200, sourceDuplicates: 5, forwarded: 1100, delivered: 900))
        let restarted = try StatusSnapshot(
            json: Self.document(run: "run-b", uptime: 2, source: 10, target: 2, sourceDuplicates: 0, forwarded: 12, delivered: 9))
        #expect(StatusRates(current: first, previous: nil) == StatusRates())
        #expect(StatusRates(current: restarted, previous: first) == StatusRates())
        let sameInstant = StatusRates(current: first, previous: first)
        #expect(sameInstant.forwarded == nil)
        let wentBack = try StatusSnapshot(json: Self.document(uptime: 11, source: 900, target: 300, sourceDuplicates: 5, forwarded: 1200, delivered: 950))
        let rates = StatusRates(current: wentBack, previous: first)
        #expect(rates.received["source"] == nil)
        #expect(rates.received["target"] == 100)
        #expect(rates.forwarded == 100)
    }

    @Test func boardLinesShowEveryFigure() throws {
        let before = try StatusSnapshot(json: Self.document(uptime: 10, source: 1000, target: 200, sourceDuplicates: 50, forwarded: 1100, delivered: 1000))
        let after = try StatusSnapshot(json: Self.document(uptime: 12, source: 1_234_567, target: 600, sourceDuplicates: 150, forwarded: 2300, delivered: 2001))
        let lines = StatusBoard(current: after, previous: before).lines
        #expect(
            lines == [
                "iotbridge flowing · run run-a · 2026-09-21T14:13:20Z · up 12s",
                "merged      600 msg/s · forwarded 2,300 · received 1,235,167 (616,984 msg/s)",
                "duplicates  150 dropped (50.0/s)",
                "devices     67 migrated of 200 in the registry",
                "events      70 emitted, 2 not yet delivered",
                "in flight   12 · dead-lettered 1",
                "",
                "UPSTREAM  STATE    CONN   RECEIVED    MSG/S  DUPLICATES  DUP/S",
                "source    flowing   2/2  1,234,567  616,784         150   50.0",
                "target    stalled   1/1        600      200           0    0.0",
                "  target: last error: idle",
                "",
                "SINK        STATE     DELIVERED  MSG/S  FAILED  RETRIES  BACKLOG",
                "merged      retrying      2,001    501       1        4       30",
                "deadLetter  flowing           1    0.0       0        0        0",
                "held back by sink merged",
            ]
        )
    }

    @Test func theFirstBoardHasNoRatesAndSaysWhenThereIsNoRegistry() throws {
        let only = try StatusSnapshot(json: Self.document(uptime: 3725, source: 5, target: 0, sourceDuplicates: 0, forwarded: 5, delivered: 5, devices: nil))
        let lines = StatusBoard(current: only, previous: nil).lines
        #expect(lines[0].hasSuffix("up 1h02m"))
        #expect(lines[1] == "merged      — msg/s · forwarded 5 · received 5 (— msg/s)")
        #expect(lines[3] == "devices     — (no registry in this bridge's state store)")
        #expect(lines[8] == "source    flowing   2/2         5      —           0      —")
    }

    @Test func anOlderBridgeWithoutTheNewMembersStillDecodes() throws {
        let text =
            #"{"state":"flowing","run":"r","upstreams":[{"name":"u","state":"flowing","connectionsOpen":1,"connections":1,"received":3,"duplicates":1}],"sinks":[],"inFlight":0}"#
        let snapshot = try StatusSnapshot(json: Array(text.utf8))
        #expect(snapshot.merged == nil && snapshot.devices == nil && snapshot.time == 0)
        #expect(snapshot.duplicatesDropped == 1)
        #expect(throws: (any Error).self) { try StatusSnapshot(json: Array("<html>".utf8)) }
        #expect(throws: (any Error).self) { try StatusSnapshot(json: Array(#"{"state":"x"}"#.utf8)) }
    }

    @Test func numbersAreGroupedTheSameEverywhere() {
        #expect(StatusBoard.count(0) == "0")
        #expect(StatusBoard.count(999) == "999")
        #expect(StatusBoard.count(1000) == "1,000")
        #expect(StatusBoard.count(-1_234_567) == "-1,234,567")
        #expect(StatusBoard.rate(nil) == "—")
        #expect(StatusBoard.rate(0.04) == "0.0")
        #expect(StatusBoard.rate(99.96) == "100.0")
        #expect(StatusBoard.rate(12.34) == "12.3")
        #expect(StatusBoard.rate(1234.5) == "1,235")
    }

    @Test func theBridgesOwnReportReadsBackIntoTheView() throws {
        let loaded = BridgeConfigurationLoader(environment: [:]).load(
            text: """
                state: bridge.sqlite
                upstreams:
                  - { name: source, url: "amqp://127.0.0.1:1/queue/source", auth: { kind: anonymous } }
                sinks:
                  - { name: log, kind: jsonl, path: out.jsonl }
                deadLetter: { kind: jsonl, path: dead.jsonl }
                """,
            file: NSTemporaryDirectory() + "/status-board.yaml"
        )
        let configuration = try #require(loaded.configuration)
        var statistics = BridgeStatistics()
        statistics.upstreams["source"] = .init(state: "flowing", received: 42, duplicatesOf: ["source": 2])
        statistics.forwarded = 40
        statistics.storeTotals = .init(devices: 9, devicesMigrated: 4, eventsEmitted: 5, eventsPending: 0)
        let bytes = Bridge.renderStatus(
            statistics: statistics,
            configuration: configuration,
            sinks: [("log", SinkState(phase: "flowing", inFlight: 1, confirmed: 39))],
            run: "run-z",
            time: 1_790_000_000_000,
            uptimeSeconds: 5,
            migration: nil
        )
        let snapshot = try StatusSnapshot(json: bytes)
        #expect(snapshot.upstreams.map(\.received) == [42])
        #expect(snapshot.merged?.forwarded == 40)
        #expect(snapshot.duplicatesDropped == 2)
        #expect(snapshot.devices?.migrated == 4 && snapshot.devices?.known == 9)
        #expect(snapshot.events?.emitted == 5)
        #expect(snapshot.sinks.first?.confirmed == 39 && snapshot.sinks.first?.inFlight == 1)
        #expect(snapshot.uptimeSeconds == 5 && snapshot.time == 1_790_000_000_000)
    }
}
