#!/usr/bin/python3
"""Calls the simulated OpenAPI endpoint with the official Alibaba Cloud Python SDK.

Used by SimulatorSDKOpenAPITests.swift. aliyun-python-sdk-core signs every request itself (signature v1,
HMAC-SHA1, nonce, timestamp), and aliyun-python-sdk-iot's request classes name the actions and parameters:
nothing here builds a request by hand, so a successful call proves that the simulator's checks accept the
real SDK's signing.

    sdk_openapi.py --endpoint 127.0.0.1:PORT --key ID --secret S [--instance IOT_INSTANCE_ID] STEP...

Steps, run in order, each printing one JSON line on stdout:
    list                    QueryConsumerGroupList: {"step": "list", "groups": [{"GroupId", "GroupName"}...]}
    create:NAME             CreateConsumerGroup:    {"step": "create", "groupId": "..."}
    query:NAME              QueryConsumerGroupList with Fuzzy=true, GroupName=NAME
A call the server refuses prints {"step": ..., "error": CODE, "status": HTTP, "message": ...} and the run
goes on. If the SDK cannot be imported the script prints {"event": "sdk-missing", ...} and exits 3.
"""

import argparse
import json
import sys

try:
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkcore.acs_exception.exceptions import ServerException
    from aliyunsdkiot.request.v20180120.QueryConsumerGroupListRequest import QueryConsumerGroupListRequest
    from aliyunsdkiot.request.v20180120.CreateConsumerGroupRequest import CreateConsumerGroupRequest
except ImportError as error:
    print(json.dumps({"event": "sdk-missing", "message": f"{error}: install aliyun-python-sdk-core and "
                      "aliyun-python-sdk-iot for /usr/bin/python3 (scripts/test.sh does, unless --no-install)"}))
    sys.exit(3)


def prepare(request, args):
    # Point the SDK at the simulator instead of iot.<region>.aliyuncs.com, over plain HTTP.
    request.set_endpoint(args.endpoint)
    request.set_protocol_type("http")
    if args.instance:
        request.set_IotInstanceId(args.instance)
    return request


def call(client, step, request):
    try:
        return json.loads(client.do_action_with_exception(request))
    except ServerException as error:
        print(json.dumps({"step": step, "error": error.get_error_code(), "status": error.get_http_status(),
                          "message": error.get_error_msg()}), flush=True)
        return None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--instance", default="")
    parser.add_argument("--region", default="cn-shanghai")
    parser.add_argument("steps", nargs="+")
    args = parser.parse_args()
    # No retries: a refused call must show as refused, not be hidden by a retry with a fresh nonce.
    client = AcsClient(args.key, args.secret, args.region, auto_retry=False, timeout=10, connect_timeout=5)
    for step in args.steps:
        name, _, value = step.partition(":")
        if name in ("list", "query"):
            request = prepare(QueryConsumerGroupListRequest(), args)
            request.set_CurrentPage(1)
            request.set_PageSize(1000)
            if name == "query":
                request.set_Fuzzy(True)
                request.set_GroupName(value)
            body = call(client, name, request)
            if body is not None:
                groups = body.get("Data", {}).get("ConsumerGroupDTO", [])
                print(json.dumps({"step": name, "success": body.get("Success"), "requestId": body.get("RequestId"),
                                  "groups": [{"GroupId": g["GroupId"], "GroupName": g["GroupName"]}
                                             for g in groups]}), flush=True)
        elif name == "create":
            request = prepare(CreateConsumerGroupRequest(), args)
            request.set_GroupName(value)
            body = call(client, name, request)
            if body is not None:
                print(json.dumps({"step": name, "success": body.get("Success"), "groupId": body.get("GroupId")}),
                      flush=True)
        else:
            parser.error(f"unknown step {step}")


if __name__ == "__main__":
    main()
