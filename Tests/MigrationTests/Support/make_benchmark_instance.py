#!/usr/bin/python3
# ===----------------------------------------------------------------------=== #
#
# This source file is part of the iotbridge open source project
# SPDX-License-Identifier: Apache-2.0
#
# ===----------------------------------------------------------------------=== #
"""Writes the issue-4 benchmark instance as an iotbridge export (JSON, which is YAML):
200 consumer groups, 1,000 old-version rules with 3 actions each (AMQP, REPUBLISH, DATAHUB) plus an error action,
500 parsers (each: a data source, 2 destinations, a script that writes to both), 50 products with AMQP
subscriptions and 10 with MNS subscriptions.

    make_benchmark_instance.py OUT.yaml [DIVISOR]

DIVISOR (default 1) shrinks every count, for a quick check of the harness.
"""

import json
import sys

GROUPS, RULES, PARSERS, PRODUCTS = 200, 1000, 500, 60


def main(out, divisor=1):
    global GROUPS, RULES, PARSERS
    GROUPS, RULES, PARSERS = max(2, GROUPS // divisor), max(1, RULES // divisor), max(1, PARSERS // divisor)
    groups = [{"id": f"G{i:04d}xxxxxxxxxxxxxxxxxxx", "name": f"group_{i:04d}"} for i in range(GROUPS)]
    products = [f"a1Bench{i:04d}" for i in range(PRODUCTS)]
    subscriptions = []
    for i, pk in enumerate(products):
        if i < 50:
            subscriptions.append({"productKey": pk, "type": "AMQP", "flags": ["DeviceDataFlag", "DeviceStatusChangeFlag"],
                                  "consumerGroupIds": [groups[i % GROUPS]["id"], groups[(i + 1) % GROUPS]["id"]]})
        else:
            subscriptions.append({"productKey": pk, "type": "MNS", "flags": ["DeviceDataFlag"]})
    rules = []
    for i in range(RULES):
        pk = products[i % 50]
        rules.append({
            "id": str(100000 + i), "name": f"rule_{i:04d}", "productKey": pk, "shortTopic": "+/user/update",
            "topicType": 1, "select": "temperature as t, deviceName() as dn", "where": f"temperature > {i % 90}",
            "status": "RUNNING" if i % 2 == 0 else "STOP",
            "actions": [
                {"id": str(300000 + 3 * i), "type": "AMQP",
                 "configuration": json.dumps({"groupId": groups[i % GROUPS]["id"]})},
                {"id": str(300001 + 3 * i), "type": "REPUBLISH",
                 "configuration": json.dumps({"topic": f"/{pk}/alarm/user/update", "topicType": 1})},
                {"id": str(300002 + 3 * i), "type": "DATAHUB",
                 "configuration": json.dumps({"projectName": "p", "topicName": f"t{i}", "regionName": "cn-shanghai"})},
            ],
            "errorAction": {"id": str(600000 + i), "type": "FC",
                            "configuration": json.dumps({"functionName": "onError", "serviceName": "iot"})},
        })
    data_sources = [{"id": str(700000 + i), "name": f"ds_{i:04d}",
                     "items": [{"topic": f"/{products[i % 50]}/+/user/update", "scopeType": "PRODUCT",
                                "productKey": products[i % 50]}]} for i in range(PARSERS)]
    destinations = []
    parsers = []
    for i in range(PARSERS):
        amqp, topic = 800000 + 2 * i, 800001 + 2 * i
        destinations.append({"id": str(amqp), "name": f"dest_amqp_{i:04d}", "type": "AMQP",
                             "configuration": json.dumps({"groupId": groups[i % GROUPS]["id"]})})
        destinations.append({"id": str(topic), "name": f"dest_topic_{i:04d}", "type": "REPUBLISH",
                             "configuration": json.dumps({"productKey": products[i % 50]})})
        parsers.append({"id": str(900000 + i), "name": f"parser_{i:04d}", "dataSourceId": str(700000 + i),
                        "status": "RUNNING",
                        "script": f'var data = payload("json");\nwriteAmqp({amqp}, data, "t");\n'
                                  f'writeIotTopic({topic}, "/{products[i % 50]}/d/user/get", data);\n',
                        "destinationIds": [str(amqp), str(topic)]})
    doc = {"format": "iotbridge.instance/v1", "identity": {"kind": "file", "regionId": "cn-shanghai", "iotInstanceId": ""},
           "products": products, "consumerGroups": groups, "subscriptions": subscriptions, "rules": rules,
           "dataSources": data_sources, "destinations": destinations, "parsers": parsers}
    with open(out, "w") as f:
        json.dump(doc, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1)
