//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

// The live dashboard of `iotbridge run` (GET /dashboard): one self-contained page, inline CSS and JavaScript, no
// external asset and no build step, so it works on a machine without network access and is reviewed as one file.
// It polls /status once a second and computes rates from successive counters over the bridge's own clock
// (`uptimeSeconds`), never the browser's. When /status fails, times out or goes quiet, the page says it is not live,
// blanks every rate and dims the last totals with their age: stale figures are never shown as live.

import Foundation

/// The dashboard page and the headers it is served with.
public enum DashboardPage {
    /// The Content-Security-Policy of the page: nothing loads but the page itself, its own inline style and script
    /// (allowed by a per-response nonce, never `unsafe-inline`) and `fetch` of /status from the same origin.
    public static func contentSecurityPolicy(nonce: String) -> String {
        "default-src 'none'; script-src 'nonce-\(nonce)'; style-src 'nonce-\(nonce)'; connect-src 'self'; "
            + "img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    }

    /// A fresh nonce: 16 random bytes, base64 (CSP's nonce-source grammar).
    public static func makeNonce() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString()
    }

    /// The page, its inline `<style>` and `<script>` carrying `nonce`.
    public static func html(nonce: String) -> String {
        #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>iotbridge</title>
        <style nonce="\#(nonce)">
        :root { --bg: #f6f7f9; --card: #fff; --ink: #1d2330; --muted: #667085; --line: #e4e7ec;
                --ok: #12805c; --warn: #b54708; --bad: #c01048; --accent: #2e5aac; }
        * { box-sizing: border-box; }
        body { margin: 0; background: var(--bg); color: var(--ink);
               font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
        header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 12px; padding: 14px 24px;
                 background: var(--card); border-bottom: 1px solid var(--line); }
        header h1 { margin: 0; font-size: 18px; }
        header .meta { color: var(--muted); }
        #live { margin-left: auto; font-weight: 600; }
        body[data-live="true"] #live { color: var(--ok); }
        body[data-live="false"] #live { color: var(--bad); }
        main { padding: 16px 24px 32px; max-width: 1280px; }
        #banner { margin: 0 0 16px; padding: 10px 14px; border-radius: 6px; background: #fdecef; color: var(--bad);
                  border: 1px solid #f5b8c6; font-weight: 600; }
        #notice { margin: 0 0 16px; padding: 8px 14px; border-radius: 6px; background: #fff6ed; color: var(--warn);
                  border: 1px solid #f9dbaf; }
        .tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 12px; margin-bottom: 16px; }
        .tile { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
        .tile .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
        .tile .value { font-size: 26px; font-weight: 650; font-variant-numeric: tabular-nums; }
        .tile .sub { color: var(--muted); font-variant-numeric: tabular-nums; }
        section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px;
                  margin-bottom: 16px; }
        section h2 { margin: 0 0 8px; font-size: 14px; }
        table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
        th, td { text-align: right; padding: 5px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
        th:first-child, td:first-child, td.text, th.text { text-align: left; }
        td.error { text-align: left; color: var(--bad); white-space: normal; max-width: 360px; }
        th { color: var(--muted); font-weight: 500; font-size: 12px; }
        tr.holding td { background: #fff6ed; }
        .state { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; background: #eef1f6; }
        .state.flowing { background: #e7f6ef; color: var(--ok); }
        .state.stalled, .state.retrying, .state.holding, .state.degraded, .state.backing-off { background: #fff1e3; color: var(--warn); }
        .state.stopped, .state.draining { background: #fdecef; color: var(--bad); }
        #spark { width: 100%; height: 64px; display: block; }
        #spark polyline { fill: none; stroke: var(--accent); stroke-width: 2; vector-effect: non-scaling-stroke; }
        body[data-live="false"] .figure, body[data-live="false"] table { opacity: .4; }
        footer { color: var(--muted); font-size: 12px; padding: 0 24px 24px; }
        </style>
        </head>
        <body data-live="connecting">
        <header>
          <h1>iotbridge</h1>
          <span class="state" id="state">…</span>
          <span class="meta">run <span id="run">…</span></span>
          <span class="meta">bridge time <span id="time">…</span></span>
          <span id="live">connecting…</span>
        </header>
        <main>
          <p id="banner" role="alert" hidden></p>
          <p id="notice" hidden></p>
          <div class="tiles">
            <div class="tile"><div class="label">Merged rate</div>
              <div class="value figure"><span id="merged-rate" data-rate>—</span></div><div class="sub">msg/s forwarded</div></div>
            <div class="tile"><div class="label">Forwarded</div>
              <div class="value figure" id="forwarded">—</div><div class="sub">unique messages</div></div>
            <div class="tile"><div class="label">Received</div>
              <div class="value figure" id="received">—</div><div class="sub"><span id="received-rate" data-rate>—</span> msg/s, all upstreams</div></div>
            <div class="tile"><div class="label">Duplicates dropped</div>
              <div class="value figure" id="duplicates">—</div><div class="sub"><span id="duplicates-rate" data-rate>—</span> /s</div></div>
            <div class="tile"><div class="label">Devices migrated</div>
              <div class="value figure" id="devices-migrated">—</div><div class="sub">of <span id="devices-known">—</span> in the registry</div></div>
            <div class="tile"><div class="label">Events emitted</div>
              <div class="value figure" id="events-emitted">—</div><div class="sub"><span id="events-pending">—</span> not yet delivered</div></div>
            <div class="tile"><div class="label">In flight</div>
              <div class="value figure" id="in-flight">—</div><div class="sub">dead-lettered <span id="dead-lettered">—</span></div></div>
          </div>
          <section>
            <h2>Merged rate, last 2 minutes (msg/s)</h2>
            <svg id="spark" viewBox="0 0 120 100" preserveAspectRatio="none" aria-label="merged rate"><polyline id="spark-line" points=""></polyline></svg>
          </section>
          <section>
            <h2>Upstreams (instances)</h2>
            <table>
              <thead><tr><th>name</th><th class="text">state</th><th>connections</th><th>received</th><th>msg/s</th>
                <th>duplicates</th><th>dup/s</th><th class="text">last error</th></tr></thead>
              <tbody id="upstreams"></tbody>
            </table>
          </section>
          <section>
            <h2>Sinks</h2>
            <table>
              <thead><tr><th>name</th><th class="text">state</th><th>delivered</th><th>msg/s</th><th>failed</th>
                <th>retries</th><th>backlog (in flight)</th><th class="text">last error</th></tr></thead>
              <tbody id="sinks"></tbody>
            </table>
          </section>
        </main>
        <footer>Polls <code>/status</code> every second; rates are differences of its counters over the last 2 s or more, on the bridge's own clock.</footer>
        <script nonce="\#(nonce)">
        "use strict";
        (function () {
          const POLL_MS = 1000;      // one /status a second
          const TIMEOUT_MS = 2500;   // a request slower than this counts as no answer
          const STALE_MS = 3000;     // no good answer for this long: the page says the figures are not live
          const HISTORY = 120;
          const RATE_SECONDS = 2;    // rates span at least 2 s of the bridge's clock: steadier than poll to poll
          const KEEP_SECONDS = 10;   // how far back answers are kept to find that base
          let recent = [];           // the last good answers of this run, oldest first
          let lastRun = null;
          let restartNoticeUntil = 0; // the browser's clock until which the page says the bridge restarted
          let lastGoodAt = 0;        // the browser's clock at the last good answer
          let live = false;
          let staleReason = "";
          const rates = [];

          const byId = (id) => document.getElementById(id);
          const count = (n) => (typeof n === "number" ? n.toLocaleString("en-US") : "—");
          const perSecond = (r) => (r === null ? "—" : r >= 100 ? Math.round(r).toLocaleString("en-US") : r.toFixed(1));
          const setText = (id, text) => { byId(id).textContent = text; };

          // Counts per second between two snapshots of one run (over the bridge's clock); null without an earlier
          // snapshot, or when a counter went back.
          function delta(seconds, now, before) {
            if (!(seconds > 0) || typeof now !== "number" || typeof before !== "number" || now < before) return null;
            return (now - before) / seconds;
          }
          const sum = (list, pick) => (list || []).reduce((total, item) => total + (pick(item) || 0), 0);
          const find = (snapshot, list, name) => (snapshot && snapshot[list] || []).find((item) => item.name === name);

          function cell(row, text, className) {
            const td = document.createElement("td");
            td.textContent = text;
            if (className) td.className = className;
            row.appendChild(td);
            return td;
          }
          function stateCell(row, state) {
            const td = cell(row, "", "text");
            const badge = document.createElement("span");
            badge.className = "state " + state;
            badge.textContent = state;
            td.appendChild(badge);
            return td;
          }

          function render(s) {
            if (recent.length && recent[recent.length - 1].run !== s.run) recent = [];
            // The base of the rates: the newest earlier answer at least RATE_SECONDS older, else the oldest one kept.
            let before = recent.length ? recent[0] : null;
            for (const earlier of recent) {
              if (s.uptimeSeconds - earlier.uptimeSeconds >= RATE_SECONDS) before = earlier;
            }
            const seconds = before ? s.uptimeSeconds - before.uptimeSeconds : 0;
            const rate = (pick, old) => (old ? delta(seconds, pick(s), pick(old)) : null);
            const rateOf = (item, old, pick) => (old ? delta(seconds, pick(item), pick(old)) : null);
            if (lastRun !== null && lastRun !== s.run) restartNoticeUntil = Date.now() + 10000;
            const state = byId("state");
            state.textContent = s.state;
            state.className = "state " + s.state;
            setText("run", s.run);
            setText("time", new Date(s.time).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC"));

            const merged = s.merged || {};
            const forwardedRate = rate((x) => x.merged && x.merged.forwarded, before);
            setText("merged-rate", perSecond(forwardedRate));
            setText("forwarded", count(merged.forwarded));
            setText("received", count(sum(s.upstreams, (u) => u.received)));
            setText("received-rate", perSecond(rate((x) => sum(x.upstreams, (u) => u.received), before)));
            setText("duplicates", count(merged.duplicatesDropped));
            setText("duplicates-rate", perSecond(rate((x) => x.merged && x.merged.duplicatesDropped, before)));
            setText("devices-migrated", s.devices ? count(s.devices.migrated) : "—");
            setText("devices-known", s.devices ? count(s.devices.known) : "—");
            setText("events-emitted", s.events ? count(s.events.emitted) : "—");
            setText("events-pending", s.events ? count(s.events.pending) : "—");
            setText("in-flight", count(s.inFlight));
            setText("dead-lettered", count(Object.values(s.deadLettered || {}).reduce((a, b) => a + b, 0)));

            const upstreams = byId("upstreams");
            upstreams.replaceChildren();
            for (const u of s.upstreams || []) {
              const row = document.createElement("tr");
              row.dataset.upstream = u.name;
              const old = before && find(before, "upstreams", u.name);
              cell(row, u.name, "text").dataset.k = "name";
              stateCell(row, u.state).dataset.k = "state";
              cell(row, u.connectionsOpen + " / " + u.connections).dataset.k = "connections";
              cell(row, count(u.received)).dataset.k = "received";
              cell(row, perSecond(rateOf(u, old, (x) => x.received))).dataset.k = "rate";
              cell(row, count(u.duplicates)).dataset.k = "duplicates";
              cell(row, perSecond(rateOf(u, old, (x) => x.duplicates))).dataset.k = "duplicates-rate";
              cell(row, u.lastError || "", "error").dataset.k = "error";
              upstreams.appendChild(row);
            }
            const sinks = byId("sinks");
            sinks.replaceChildren();
            for (const k of s.sinks || []) {
              const row = document.createElement("tr");
              row.dataset.sink = k.name;
              if (s.heldBackBy === k.name) row.className = "holding";
              const old = before && find(before, "sinks", k.name);
              cell(row, k.name + (s.heldBackBy === k.name ? " (holding the stream back)" : ""), "text").dataset.k = "name";
              stateCell(row, k.state).dataset.k = "state";
              cell(row, count(k.confirmed)).dataset.k = "delivered";
              cell(row, perSecond(rateOf(k, old, (x) => x.confirmed))).dataset.k = "rate";
              cell(row, count(k.refused)).dataset.k = "failed";
              cell(row, count(k.retries)).dataset.k = "retries";
              cell(row, count(k.inFlight)).dataset.k = "backlog";
              cell(row, k.lastError || "", "error").dataset.k = "error";
              sinks.appendChild(row);
            }

            if (forwardedRate !== null) {
              rates.push(forwardedRate);
              if (rates.length > HISTORY) rates.shift();
              const top = Math.max(1, ...rates);
              const points = rates.map((r, i) => (HISTORY - rates.length + i) + "," + (100 - (r / top) * 95).toFixed(1));
              byId("spark-line").setAttribute("points", points.join(" "));
            }
            const notice = byId("notice");
            const notes = [];
            if (Date.now() < restartNoticeUntil) notes.push("The bridge restarted (new run): its counters began again at zero.");
            if (s.state !== "flowing") notes.push("The bridge reports state \u201c" + s.state + "\u201d.");
            if (s.dedup && s.dedup.storeError) notes.push("State store: " + s.dedup.storeError);
            notice.hidden = notes.length === 0;
            notice.textContent = notes.join(" ");
            recent.push(s);
            while (recent.length > 1 && s.uptimeSeconds - recent[0].uptimeSeconds > KEEP_SECONDS) recent.shift();
            lastRun = s.run;
          }

          function showLive() {
            live = true;
            document.body.dataset.live = "true";
            setText("live", "live");
            byId("banner").hidden = true;
          }

          // Never show old figures as live: say so, blank the rates, and keep the last totals dimmed with their age.
          function showStale(reason) {
            live = false;
            staleReason = reason;
            document.body.dataset.live = "false";
            setText("live", "NOT LIVE");
            const banner = byId("banner");
            banner.hidden = false;
            if (lastGoodAt) {
              const age = Math.round((Date.now() - lastGoodAt) / 1000);
              banner.textContent = "The bridge is not answering (" + reason + "). The figures below are the last it sent, "
                + age + " s ago, at " + new Date(lastGoodAt).toLocaleTimeString() + ": they are not live.";
            } else {
              banner.textContent = "The bridge is not answering (" + reason + "). No figures yet.";
            }
            for (const element of document.querySelectorAll("[data-rate], [data-k=rate], [data-k=duplicates-rate]")) {
              element.textContent = "—";
            }
            recent = [];
          }

          async function poll() {
            const controller = new AbortController();
            const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
            try {
              const response = await fetch("status", { cache: "no-store", signal: controller.signal });
              if (!response.ok) throw new Error("HTTP " + response.status);
              const snapshot = await response.json();
              lastGoodAt = Date.now();
              render(snapshot);
              showLive();
            } catch (error) {
              showStale(error && error.name === "AbortError" ? "no answer within " + TIMEOUT_MS / 1000 + " s" : String(error && error.message || error));
            } finally {
              clearTimeout(timer);
              setTimeout(poll, POLL_MS);
            }
          }

          // A request that hangs without failing must not leave the page looking live either.
          // While not live, the banner's age keeps counting.
          setInterval(() => {
            if (live && Date.now() - lastGoodAt > STALE_MS) {
              showStale("no answer for " + Math.round((Date.now() - lastGoodAt) / 1000) + " s");
            } else if (!live && lastGoodAt) {
              showStale(staleReason);
            }
          }, 1000);
          poll();
        })();
        </script>
        </body>
        </html>
        """#
    }
}
