#!/usr/bin/python3
# ===----------------------------------------------------------------------=== #
#
# This source file is part of the iotbridge open source project
# SPDX-License-Identifier: Apache-2.0
#
# ===----------------------------------------------------------------------=== #
"""A loopback stand-in for the IoT OpenAPI (2018-01-20, RPC style) used by the MigrationTests.

It implements the subset of actions `iotbridge migrate` calls, keeps one in-memory instance per IotInstanceId,
and checks every request the way the platform does: signature v1 (HMAC-SHA1, key = secret + "&"), a known
AccessKeyId, a fresh SignatureNonce, and IotInstanceId: absent for the legacy public instance (kept here under
the ID ""), the instance ID otherwise; an IotInstanceId sent empty is refused, so a client that sends it empty fails.

Standard library only; run with /usr/bin/python3:

    openapi_server.py --key testid:testsecret [--port 0]

It prints `PORT <n>` on stdout once listening. Test-only control endpoints (no signature):
    POST /__seed?instance=ID   body: an iotbridge instance export as JSON — replaces that instance. Its optional
                               "assessment" section (products' details, device counts, OTA jobs, consumer-group
                               clients) feeds QueryProduct, QueryDeviceStatistics, ListOTAFirmware,
                               ListOTAJobByFirmware and QueryConsumerGroupStatus; "unavailableActions": [A, …]
                               makes those actions answer InvalidAction.NotFound, as on an instance that lacks them.
    GET  /__state?instance=ID  the instance as an iotbridge export (JSON), plus "calls" per action
    POST /__faults             body: {"stall": {"action": A, "after": N, "mode": "after"|"before"},
                                      "lose": {"action": A, "after": N, "mode": "503"|"drop", "freeze": B},
                                      "throttle": {A: N}, "fail500": {A: N}}
                               stall: the N-th call of A (1-based) hangs for 120 s — after applying it
                               ("after", the client never learns the result) or before; lose: the N-th call of
                               A is applied, then answered 503 ServiceUnavailable or its connection is closed
                               without an answer ("drop"); it prints `LOST A #N`. With "freeze": true every later
                               API call (printing `FROZEN A`) waits, unapplied, until the next /__faults, and is
                               then answered 503: a test can kill the client between the lost answer and its retry.
                               throttle / fail500: the next N calls of A answer Throttling.User / HTTP 500 (not
                               applied).
"""

import argparse
import base64
import hashlib
import hmac
import json
import random
import re
import socket
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FLAGS = ["DeviceDataFlag", "DeviceStatusChangeFlag", "DeviceLifeCycleFlag", "DeviceTopoLifeCycleFlag",
         "FoundDeviceListFlag", "ThingHistoryFlag", "OtaEventFlag", "OtaVersionFlag", "OtaJobFlag", "DeviceTagFlag"]


def percent_encode(value):
    return urllib.parse.quote(value, safe="-_.~")


def sign(params, secret):
    canonical = "&".join(
        f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()) if k != "Signature")
    string_to_sign = "POST&%2F&" + percent_encode(canonical)
    digest = hmac.new((secret + "&").encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class ApiError(Exception):
    def __init__(self, code, message, status=200):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class Instance:
    def __init__(self):
        self.products = []
        self.groups = {}        # id -> {GroupId, GroupName}
        self.subs = {}          # (pk, type) -> dict
        self.rules = {}         # int id -> dict with "actions": {int id: dict}
        self.datasources = {}   # int id -> dict with "items": {int id: dict}
        self.destinations = {}  # int id -> dict
        self.parsers = {}       # int id -> dict
        self.facts = {}         # pk -> the export's assessment.products item
        self.group_clients = {} # group id -> [client id]
        self.unavailable = set()

    # -- seed / dump in iotbridge's export format -------------------------------------------------------------------

    @staticmethod
    def from_export(doc, ids):
        inst = Instance()
        inst.products = list(doc.get("products", []))
        assessment = doc.get("assessment") or {}
        inst.facts = {p["productKey"]: p for p in assessment.get("products", [])}
        inst.group_clients = {g["id"]: g.get("connectedClients") or [] for g in assessment.get("consumerGroups", [])}
        inst.unavailable = set(doc.get("unavailableActions", []))
        for g in doc.get("consumerGroups", []):
            inst.groups[g["id"]] = {"GroupId": g["id"], "GroupName": g["name"]}
        for s in doc.get("subscriptions", []):
            inst.subs[(s["productKey"], s["type"])] = {
                "flags": set(s.get("flags", [])), "groups": list(s.get("consumerGroupIds", [])),
                "mns": s.get("mnsConfiguration"), "subscribeFlags": s.get("subscribeFlags")}
        for r in doc.get("rules", []):
            rid = int(r["id"])
            actions = {}
            for a in r.get("actions", []):
                actions[int(a.get("id") or ids())] = {"Type": a["type"], "Configuration": a["configuration"],
                                                     "ErrorActionFlag": False}
            if r.get("errorAction"):
                a = r["errorAction"]
                actions[int(a.get("id") or ids())] = {"Type": a["type"], "Configuration": a["configuration"],
                                                     "ErrorActionFlag": True}
            inst.rules[rid] = {"Name": r["name"], "ProductKey": r.get("productKey"), "ShortTopic": r.get("shortTopic"),
                               "Topic": r.get("topic"), "TopicType": r.get("topicType"), "Select": r["select"],
                               "Where": r.get("where"), "DataType": r.get("dataType", "JSON"),
                               "RuleDesc": r.get("description"), "Status": r.get("status", "STOP"),
                               "actions": actions}
        for d in doc.get("dataSources", []):
            items = {}
            for it in d.get("items", []):
                items[int(it.get("id") or ids())] = {"Topic": it["topic"], "ScopeType": it.get("scopeType"),
                                                     "ProductKey": it.get("productKey"),
                                                     "DeviceName": it.get("deviceName")}
            inst.datasources[int(d["id"])] = {"Name": d["name"], "Description": d.get("description"), "items": items}
        for d in doc.get("destinations", []):
            inst.destinations[int(d["id"])] = {"Name": d["name"], "Type": d["type"],
                                               "Configuration": d["configuration"],
                                               "Description": d.get("description")}
        for p in doc.get("parsers", []):
            inst.parsers[int(p["id"])] = {
                "Name": p["name"], "Description": p.get("description"),
                "DataSourceId": int(p["dataSourceId"]) if p.get("dataSourceId") else None,
                "Script": p.get("script"), "ScriptDraft": p.get("scriptDraft"), "Status": p.get("status", "STOP"),
                "dests": [int(x) for x in p.get("destinationIds", [])],
                "failover": int(p["errorDestinationId"]) if p.get("errorDestinationId") else None}
        return inst

    def to_export(self):
        def strip(d):
            return {k: v for k, v in d.items() if v is not None}
        rules = []
        for rid, r in sorted(self.rules.items()):
            normal = [{"id": str(aid), "type": a["Type"], "configuration": a["Configuration"]}
                      for aid, a in sorted(r["actions"].items()) if not a["ErrorActionFlag"]]
            error = [{"id": str(aid), "type": a["Type"], "configuration": a["Configuration"]}
                     for aid, a in sorted(r["actions"].items()) if a["ErrorActionFlag"]]
            rules.append(strip({"id": str(rid), "name": r["Name"], "productKey": r["ProductKey"],
                                "shortTopic": r["ShortTopic"], "topic": r["Topic"], "topicType": r["TopicType"],
                                "select": r["Select"], "where": r["Where"], "dataType": r["DataType"],
                                "description": r["RuleDesc"], "status": r["Status"], "actions": normal,
                                "errorAction": error[0] if error else None}))
        return {
            "format": "iotbridge.instance/v1",
            "products": self.products,
            "consumerGroups": [{"id": g["GroupId"], "name": g["GroupName"]} for g in self.groups.values()],
            "subscriptions": [strip({"productKey": pk, "type": t, "flags": [f for f in FLAGS if f in s["flags"]],
                                     "consumerGroupIds": s["groups"], "mnsConfiguration": s["mns"],
                                     "subscribeFlags": s["subscribeFlags"]})
                              for (pk, t), s in sorted(self.subs.items())],
            "rules": rules,
            "dataSources": [strip({"id": str(i), "name": d["Name"], "description": d["Description"],
                                   "items": [strip({"id": str(j), "topic": it["Topic"], "scopeType": it["ScopeType"],
                                                    "productKey": it["ProductKey"],
                                                    "deviceName": it["DeviceName"]})
                                             for j, it in sorted(d["items"].items())]})
                            for i, d in sorted(self.datasources.items())],
            "destinations": [strip({"id": str(i), "name": d["Name"], "type": d["Type"],
                                    "configuration": d["Configuration"], "description": d["Description"]})
                             for i, d in sorted(self.destinations.items())],
            "parsers": [strip({"id": str(i), "name": p["Name"], "description": p["Description"],
                               "dataSourceId": str(p["DataSourceId"]) if p["DataSourceId"] else None,
                               "script": p["Script"], "scriptDraft": p["ScriptDraft"], "status": p["Status"],
                               "destinationIds": [str(x) for x in p["dests"]],
                               "errorDestinationId": str(p["failover"]) if p["failover"] else None})
                        for i, p in sorted(self.parsers.items())],
        }


class State:
    def __init__(self, keys):
        self.keys = keys
        self.lock = threading.RLock()
        self.instances = {}
        self.nonces = set()
        self.calls = {}
        self.faults = {}
        self.frozen = False
        self.next_id = 100000

    def new_id(self):
        self.next_id += 1
        return self.next_id

    def instance(self, iid):
        return self.instances.setdefault(iid, Instance())


def paged(items, params, page_key):
    page = int(params.get(page_key) or 1)
    size = int(params.get("PageSize") or 10)
    return items[(page - 1) * size: page * size], len(items), page, size


def need(params, *names):
    for name in names:
        if not params.get(name):
            raise ApiError("InvalidParameter", f"{name} is mandatory for this action.")


def check_group_config(inst, configuration):
    try:
        config = json.loads(configuration)
    except ValueError:
        raise ApiError("iot.rule.InvalidFormattedConfiguration", "Configuration is not JSON.")
    group = config.get("groupId")
    if group is not None and group not in inst.groups:
        raise ApiError("iot.consumergroup.NotExist", f"consumer group {group} does not exist in this instance.")


def handle(state, inst, action, p):
    """Applies one action to an instance and returns the response body (without RequestId/Success)."""
    if action in inst.unavailable:
        raise ApiError("InvalidAction.NotFound", f"Specified api {action} is not found.", status=404)
    if action in ("QueryProduct", "QueryDeviceStatistics"):
        need(p, "ProductKey")
        if p["ProductKey"] not in inst.products:
            raise ApiError("iot.prod.NotExistedProduct", "the product does not exist.")
        f = inst.facts.get(p["ProductKey"], {})
        if action == "QueryDeviceStatistics":
            return {"Data": {"deviceCount": f.get("deviceCount", 0), "onlineCount": f.get("onlineCount", 0),
                             "activeCount": f.get("deviceCount", 0)}}
        data = {"ProductKey": p["ProductKey"], "ProductName": f.get("name", p["ProductKey"]),
                "DeviceCount": f.get("deviceCount", 0), "AuthType": f.get("authType", "secret"),
                "Id2": f.get("id2", False), "NodeType": f.get("nodeType", 0), "Owner": f.get("owner", True)}
        return {"Data": data}
    if action == "ListOTAFirmware":
        firmware = sorted({(j["firmwareId"], pk) for pk, f in inst.facts.items() for j in f.get("otaJobs", [])})
        items, total, page, size = paged([{"FirmwareId": fid, "ProductKey": pk} for fid, pk in firmware], p,
                                         "CurrentPage")
        return {"FirmwareInfo": {"SimpleFirmwareInfo": items}, "Total": total, "CurrentPage": page,
                "PageSize": size}
    if action == "ListOTAJobByFirmware":
        need(p, "FirmwareId")
        jobs = [{"JobId": j["jobId"], "FirmwareId": j["firmwareId"], "JobStatus": j["status"],
                 "JobType": j.get("type", "UPGRADE_FIRMWARE"), "ProductKey": pk}
                for pk, f in sorted(inst.facts.items()) for j in f.get("otaJobs", [])
                if j["firmwareId"] == p["FirmwareId"]]
        items, total, page, size = paged(jobs, p, "CurrentPage")
        return {"Data": {"SimpleOTAJobInfo": items}, "Total": total, "CurrentPage": page, "PageSize": size}
    if action == "QueryConsumerGroupStatus":
        need(p, "GroupId")
        if p["GroupId"] not in inst.groups:
            raise ApiError("iot.consumergroup.NotExist", "consumer group does not exist.")
        clients = [{"ClientId": c, "ClientIpPort": "192.0.2.1:5671", "OnlineTime": 1700000000000}
                   for c in inst.group_clients.get(p["GroupId"], [])]
        return {"AccumulationCount": 0, "ClientConnectionStatusList": {"ConsumerGroupClientConnectionInfo": clients}}
    if action == "QueryProductList":
        items, total, page, size = paged(inst.products, p, "CurrentPage")
        return {"Data": {"Total": total, "CurrentPage": page, "PageSize": size,
                         "List": {"ProductInfo": [{"ProductKey": pk} for pk in items]}}}
    if action == "QueryConsumerGroupList":
        groups = sorted(inst.groups.values(), key=lambda g: g["GroupName"])
        items, total, page, size = paged(groups, p, "CurrentPage")
        return {"Data": {"ConsumerGroupDTO": items}, "Total": total, "CurrentPage": page, "PageSize": size,
                "PageCount": (total + size - 1) // size}
    if action == "CreateConsumerGroup":
        name = p.get("GroupName", "")
        if not re.fullmatch(r"[A-Za-z0-9_]{4,30}", name):
            raise ApiError("iot.consumergroup.InvalidGroupName", f"GroupName {name} is invalid.")
        if any(g["GroupName"] == name for g in inst.groups.values()):
            raise ApiError("iot.consumergroup.GroupNameExisted", f"consumer group {name} already exists.")
        gid = uuid.uuid4().hex[:22] + "00gr"
        inst.groups[gid] = {"GroupId": gid, "GroupName": name}
        return {"GroupId": gid}
    if action == "DeleteConsumerGroup":
        need(p, "GroupId")
        gid = p["GroupId"]
        if gid not in inst.groups:
            raise ApiError("iot.consumergroup.NotExist", "consumer group does not exist.")
        if any(gid in s["groups"] for s in inst.subs.values()):
            raise ApiError("iot.consumergroup.GroupHasSubscribeRelation", "unsubscribe products first.")
        del inst.groups[gid]
        return {}
    if action in ("CreateSubscribeRelation", "UpdateSubscribeRelation"):
        need(p, "ProductKey", "Type")
        key = (p["ProductKey"], p["Type"])
        flags = {f for f in FLAGS if p.get(f, "false").lower() == "true"}
        if not flags and not p.get("SubscribeFlags"):
            raise ApiError("iot.subscribe.AllFlagsFalse", "at least one flag must be true.")
        groups = [v for k, v in sorted(p.items(), key=lambda kv: kv[0]) if k.startswith("ConsumerGroupIds.")]
        if p["Type"] == "AMQP":
            if not groups:
                raise ApiError("InvalidParameter", "ConsumerGroupIds is mandatory for AMQP.")
            for g in groups:
                if g not in inst.groups:
                    raise ApiError("iot.consumergroup.NotExist", f"consumer group {g} does not exist.")
        exists = key in inst.subs
        if action == "CreateSubscribeRelation" and exists:
            raise ApiError("iot.subscribe.SubscribeRelationExisted", "the subscribe relation already exists.")
        if action == "UpdateSubscribeRelation" and not exists:
            raise ApiError("iot.subscribe.SubscribeRelationNotExist", "the subscribe relation does not exist.")
        if p["ProductKey"] not in inst.products:
            inst.products.append(p["ProductKey"])
        inst.subs[key] = {"flags": flags, "groups": groups, "mns": p.get("MnsConfiguration"),
                          "subscribeFlags": p.get("SubscribeFlags")}
        return {}
    if action == "QuerySubscribeRelation":
        need(p, "ProductKey", "Type")
        s = inst.subs.get((p["ProductKey"], p["Type"]))
        if s is None:
            raise ApiError("iot.subscribe.SubscribeRelationNotExist", "the subscribe relation does not exist.")
        body = {"ProductKey": p["ProductKey"], "Type": p["Type"], "ConsumerGroupIds": s["groups"]}
        body.update({f: f in s["flags"] for f in FLAGS})
        if s["mns"]:
            body["MnsConfiguration"] = s["mns"]
        if s["subscribeFlags"]:
            body["SubscribeFlags"] = s["subscribeFlags"]
        return body
    if action == "DeleteSubscribeRelation":
        key = (p.get("ProductKey"), p.get("Type"))
        if key not in inst.subs:
            raise ApiError("iot.subscribe.SubscribeRelationNotExist", "the subscribe relation does not exist.")
        del inst.subs[key]
        return {}
    if action == "ListRule":
        # As on the platform, list items carry no TopicType: only GetRule has it.
        rules = [dict({k: v for k, v in r.items() if k not in ("actions", "TopicType")}, Id=rid)
                 for rid, r in sorted(inst.rules.items(), reverse=True)]
        items, total, page, size = paged(rules, p, "CurrentPage")
        return {"Data": {"RuleInfo": items}, "Total": total, "Page": page, "PageSize": size}
    if action == "GetRule":
        r = rule(inst, p)
        return {"RuleInfo": dict({k: v for k, v in r.items() if k != "actions"}, Id=int(p["RuleId"]))}
    if action == "CreateRule":
        need(p, "Name", "Select")
        if not p.get("Topic") and not (p.get("ProductKey") and p.get("ShortTopic") is not None):
            raise ApiError("InvalidParameter", "Topic or ProductKey+ShortTopic is mandatory.")
        rid = state.new_id()
        inst.rules[rid] = {"Name": p["Name"], "ProductKey": p.get("ProductKey"), "ShortTopic": p.get("ShortTopic"),
                           "Topic": p.get("Topic"), "TopicType": int(p["TopicType"]) if p.get("TopicType") else None,
                           "Select": p["Select"], "Where": p.get("Where"), "DataType": p.get("DataType", "JSON"),
                           "RuleDesc": p.get("RuleDesc"), "Status": "STOP", "actions": {}}
        return {"RuleId": rid}
    if action == "ListRuleActions":
        r = rule(inst, p)
        return {"RuleActionList": {"RuleActionInfo": [
            {"Id": aid, "RuleId": int(p["RuleId"]), "Type": a["Type"], "Configuration": a["Configuration"],
             "ErrorActionFlag": a["ErrorActionFlag"], "Status": "NORMAL"} for aid, a in sorted(r["actions"].items())]}}
    if action == "CreateRuleAction":
        r = rule(inst, p)
        need(p, "Type", "Configuration")
        error = p.get("ErrorActionFlag", "false").lower() == "true"
        normal = [a for a in r["actions"].values() if not a["ErrorActionFlag"]]
        if error and any(a["ErrorActionFlag"] for a in r["actions"].values()):
            raise ApiError("iot.rule.TooManyErrorActions", "a rule has at most one error action.")
        if not error and len(normal) >= 10:
            raise ApiError("iot.rule.TooManyActions", "a rule has at most 10 actions.")
        if p["Type"] == "AMQP":
            check_group_config(inst, p["Configuration"])
        aid = state.new_id()
        r["actions"][aid] = {"Type": p["Type"], "Configuration": p["Configuration"], "ErrorActionFlag": error}
        return {"ActionId": aid}
    if action in ("StartRule", "StopRule"):
        rule(inst, p)["Status"] = "RUNNING" if action == "StartRule" else "STOP"
        return {}
    if action == "DeleteRule":
        r = rule(inst, p)
        if r["Status"] == "RUNNING":
            raise ApiError("iot.rule.RuleIsRunning", "stop the rule before deleting it.")
        del inst.rules[int(p["RuleId"])]
        return {}
    if action == "ListParserDataSource":
        sources = [{"DataSourceId": i, "Name": d["Name"], "Description": d["Description"]}
                   for i, d in sorted(inst.datasources.items())]
        items, total, page, size = paged(sources, p, "Page")
        return {"Data": {"DataSource": items}, "Total": total, "Page": page, "PageSize": size}
    if action == "ListDataSourceItem":
        d = datasource(inst, p)
        entries = [dict(it, DataSourceItemId=j) for j, it in sorted(d["items"].items())]
        items, total, page, size = paged(entries, p, "Page")
        return {"DataSourceItems": {"dataSourceItem": items}, "Total": total, "Page": page, "PageSize": size}
    if action == "CreateParserDataSource":
        need(p, "Name")
        i = state.new_id()
        inst.datasources[i] = {"Name": p["Name"], "Description": p.get("Description"), "items": {}}
        return {"DataSource": {"DataSourceId": i, "Name": p["Name"]}}
    if action == "CreateDataSourceItem":
        d = datasource(inst, p)
        need(p, "Topic")
        if any(it["Topic"] == p["Topic"] for it in d["items"].values()):
            raise ApiError("iot.datasource.TopicExisted", "the topic is already in the data source.")
        d["items"][state.new_id()] = {"Topic": p["Topic"], "ScopeType": p.get("ScopeType"),
                                      "ProductKey": p.get("ProductKey"), "DeviceName": p.get("DeviceName")}
        return {}
    if action == "DeleteParserDataSource":
        datasource(inst, p)
        del inst.datasources[int(p["DataSourceId"])]
        return {}
    if action == "ListDestination":
        dests = [dict(d, DestinationId=i) for i, d in sorted(inst.destinations.items())]
        items, total, page, size = paged(dests, p, "Page")
        return {"Destinations": {"destinations": items}, "Total": total, "Page": page, "PageSize": size}
    if action == "CreateDestination":
        need(p, "Name", "Type", "Configuration")
        if p["Type"] == "AMQP":
            check_group_config(inst, p["Configuration"])
        i = state.new_id()
        inst.destinations[i] = {"Name": p["Name"], "Type": p["Type"], "Configuration": p["Configuration"],
                                "Description": p.get("Description")}
        return {"Destination": {"DestinationId": i, "Name": p["Name"]}}
    if action == "DeleteDestination":
        i = int(p.get("DestinationId") or 0)
        if i not in inst.destinations:
            raise ApiError("iot.destination.NotExist", "the destination does not exist.")
        del inst.destinations[i]
        return {}
    if action == "ListParser":
        parsers = [{"ParserId": i, "Name": x["Name"], "Description": x["Description"], "Status": x["Status"]}
                   for i, x in sorted(inst.parsers.items())]
        items, total, page, size = paged(parsers, p, "CurrentPage")
        return {"Data": {"ParserList": items}, "Total": total}
    if action == "GetParser":
        x = parser(inst, p)
        return {"Data": {"ParserId": int(p["ParserId"]), "Name": x["Name"], "Description": x["Description"],
                         "DataSourceId": x["DataSourceId"], "Script": x["Script"], "ScriptDraft": x["ScriptDraft"],
                         "Status": x["Status"]}}
    if action == "ListParserDestination":
        x = parser(inst, p)
        failover = p.get("IsFailover", "false").lower() == "true"
        ids = ([x["failover"]] if x["failover"] else []) if failover else x["dests"]
        return {"Data": {"destinations": [dict(inst.destinations[i], DestinationId=i) for i in ids
                                          if i in inst.destinations]}}
    if action == "CreateParser":
        need(p, "Name")
        i = state.new_id()
        inst.parsers[i] = {"Name": p["Name"], "Description": p.get("Description"), "DataSourceId": None,
                           "Script": None, "ScriptDraft": None, "Status": "STOP", "dests": [], "failover": None}
        return {"ParserId": i}
    if action == "SaveScript":
        parser(inst, p)["ScriptDraft"] = p.get("ScriptDraft", "")
        return {}
    if action == "PublishScript":
        x = parser(inst, p)
        draft = x["ScriptDraft"] or ""
        for ref in re.findall(r"write[A-Za-z]*\s*\(\s*(\d+)", draft):
            if int(ref) not in inst.destinations:
                return {"SyntaxErrorMsg": f"destination {ref} does not exist"}
        x["Script"] = draft
        return {}
    if action == "AttachParserDataSource":
        x = parser(inst, p)
        datasource(inst, p)
        x["DataSourceId"] = int(p["DataSourceId"])
        return {}
    if action == "AttachDestination":
        x = parser(inst, p)
        i = int(p.get("DestinationId") or 0)
        if i not in inst.destinations:
            raise ApiError("iot.destination.NotExist", "the destination does not exist.")
        if p.get("IsFailover", "false").lower() == "true":
            x["failover"] = i
        else:
            if i in x["dests"]:
                raise ApiError("iot.parser.DestinationAttached", "the destination is already attached.")
            if len(x["dests"]) >= 10:
                raise ApiError("iot.parser.TooManyDestinations", "at most 10 destinations per parser.")
            x["dests"].append(i)
        return {}
    if action in ("StartParser", "StopParser"):
        parser(inst, p)["Status"] = "RUNNING" if action == "StartParser" else "STOP"
        return {}
    if action == "DeleteParser":
        x = parser(inst, p)
        if x["Status"] == "RUNNING":
            raise ApiError("iot.parser.ParserIsRunning", "stop the parser before deleting it.")
        del inst.parsers[int(p["ParserId"])]
        return {}
    raise ApiError("InvalidAction.NotFound", f"Specified api {action} is not found.", status=404)


def rule(inst, p):
    rid = int(p.get("RuleId") or 0)
    if rid not in inst.rules:
        raise ApiError("iot.rule.NotExist", f"rule {rid} does not exist.")
    return inst.rules[rid]


def datasource(inst, p):
    i = int(p.get("DataSourceId") or 0)
    if i not in inst.datasources:
        raise ApiError("iot.datasource.NotExist", f"data source {i} does not exist.")
    return inst.datasources[i]


def parser(inst, p):
    i = int(p.get("ParserId") or 0)
    if i not in inst.parsers:
        raise ApiError("iot.parser.NotExist", f"parser {i} does not exist.")
    return inst.parsers[i]


def make_handler(state):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def reply(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def body(self):
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length).decode() if length else ""

        def do_GET(self):
            url = urllib.parse.urlparse(self.path)
            query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
            if url.path == "/__state":
                with state.lock:
                    doc = state.instance(query.get("instance", "")).to_export()
                    doc["calls"] = dict(state.calls)
                self.reply(200, doc)
            else:
                self.reply(404, {"Code": "NotFound"})

        def do_POST(self):
            url = urllib.parse.urlparse(self.path)
            raw = self.body()
            if url.path == "/__seed":
                query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
                with state.lock:
                    state.instances[query.get("instance", "")] = Instance.from_export(json.loads(raw), state.new_id)
                return self.reply(200, {"ok": True})
            if url.path == "/__faults":
                with state.lock:
                    state.faults = json.loads(raw or "{}")
                    state.frozen = False
                return self.reply(200, {"ok": True})
            self.api(dict(urllib.parse.parse_qsl(raw, keep_blank_values=True)))

        def frozen_out(self, action):
            """While frozen, holds the call unapplied until the test changes the faults; True if it was held."""
            with state.lock:
                if not state.frozen:
                    return False
            sys.stdout.write(f"FROZEN {action}\n")
            sys.stdout.flush()
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                with state.lock:
                    if not state.frozen:
                        break
                time.sleep(0.05)
            return True

        def api(self, params):
            request_id = str(uuid.uuid4()).upper()
            action = params.get("Action", "")
            secret = state.keys.get(params.get("AccessKeyId", ""))
            if secret is None:
                return self.reply(404, {"Code": "InvalidAccessKeyId.NotFound", "RequestId": request_id,
                                        "Message": "Specified access key is not found."})
            if params.get("Signature") != sign(params, secret):
                return self.reply(400, {"Code": "SignatureDoesNotMatch", "RequestId": request_id,
                                        "Message": "Specified signature is not matched with our calculation."})
            for name in ("Version", "SignatureNonce", "Timestamp", "SignatureMethod", "SignatureVersion", "Format"):
                if not params.get(name):
                    return self.reply(400, {"Code": "MissingParameter", "RequestId": request_id,
                                            "Message": f"{name} is mandatory."})
            if params.get("IotInstanceId") == "":
                return self.reply(400, {"Code": "InvalidParameter", "RequestId": request_id,
                                        "Message": "IotInstanceId is empty: omit it for the legacy public instance."})
            params.setdefault("IotInstanceId", "")
            if self.frozen_out(action):
                return self.reply(503, {"Code": "ServiceUnavailable", "RequestId": request_id})
            stall = None
            lose = None
            with state.lock:
                if params["SignatureNonce"] in state.nonces:
                    return self.reply(400, {"Code": "SignatureNonceUsed", "RequestId": request_id,
                                            "Message": "Specified signature nonce was used already."})
                state.nonces.add(params["SignatureNonce"])
                count = state.calls.get(action, 0) + 1
                state.calls[action] = count
                for kind, status, code in (("throttle", 400, "Throttling.User"), ("fail500", 500, "InternalError")):
                    left = state.faults.get(kind, {}).get(action, 0)
                    if left > 0:
                        state.faults[kind][action] = left - 1
                        return self.reply(status, {"Code": code, "RequestId": request_id,
                                                   "Message": "Request was denied due to user flow control."
                                                   if kind == "throttle" else "The request processing has failed."})
                spec = state.faults.get("stall") or {}
                if spec.get("action") == action and spec.get("after") == count:
                    stall = spec.get("mode", "after")
                spec = state.faults.get("lose") or {}
                if spec.get("action") == action and spec.get("after") == count:
                    lose = spec.get("mode", "503")
                    state.frozen = bool(spec.get("freeze"))
                if stall == "before":
                    result = None
                else:
                    try:
                        body = handle(state, state.instance(params["IotInstanceId"]), action, params)
                        result = (200, dict(body, RequestId=request_id, Success=True))
                    except ApiError as error:
                        result = (error.status, {"RequestId": request_id, "Success": False, "Code": error.code,
                                                 "ErrorMessage": error.message})
            if lose:
                sys.stdout.write(f"LOST {action} #{count}\n")
                sys.stdout.flush()
                if lose == "drop":
                    # Applied, then the connection closes with no answer: the client sees an empty reply.
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                return self.reply(503, {"Code": "ServiceUnavailable", "RequestId": request_id,
                                        "Message": "The request has failed due to a temporary failure of the server."})
            if stall:
                sys.stdout.write(f"STALL {action} #{count}\n")
                sys.stdout.flush()
                time.sleep(120)
                return self.reply(503, {"Code": "ServiceUnavailable", "RequestId": request_id})
            self.reply(*result)

    return Handler


def main():
    parser_ = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser_.add_argument("--port", type=int, default=0)
    parser_.add_argument("--key", action="append", default=[], help="ACCESS_KEY_ID:SECRET (repeatable)")
    args = parser_.parse_args()
    keys = dict(k.split(":", 1) for k in args.key) or {"testid": "testsecret"}
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(State(keys)))
    server.daemon_threads = True
    sys.stdout.write(f"PORT {server.server_address[1]}\n")
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
