//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import IoTPlatform
import Testing

/// The two worked examples of reference §6.6.
@Suite struct OpenAPISignatureTests {
    @Test func iotPubExampleFromTheIoTDoc() {
        let parameters = [
            "MessageContent": "aGVsbG93b3JsZA=",
            "Action": "Pub",
            "Timestamp": "2017-10-02T09:39:41Z",
            "SignatureVersion": "1.0",
            "ServiceCode": "iot",
            "Format": "XML",
            "Qos": "0",
            "SignatureNonce": "0715a395-aedf-4a41-bab7-746b43d38d88",
            "Version": "2017-04-20",
            "AccessKeyId": "testid",
            "SignatureMethod": "HMAC-SHA1",
            "RegionId": "cn-shanghai",
            "ProductKey": "12345abcdeZ",
            "TopicFullName": "/productKey/testdevice/get",
        ]
        #expect(
            OpenAPISignature.stringToSign(method: "GET", parameters: parameters)
                == "GET&%2F&AccessKeyId%3Dtestid%26Action%3DPub%26Format%3DXML%26MessageContent%3DaGVsbG93b3JsZA"
                + "%253D%26ProductKey%3D12345abcdeZ%26Qos%3D0%26RegionId%3Dcn-shanghai%26ServiceCode%3Diot"
                + "%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D0715a395-aedf-4a41-bab7-746b43d38d88"
                + "%26SignatureVersion%3D1.0%26Timestamp%3D2017-10-02T09%253A39%253A41Z%26TopicFullName%3D"
                + "%252FproductKey%252Ftestdevice%252Fget%26Version%3D2017-04-20"
        )
        let signature = OpenAPISignature.sign(method: "GET", parameters: parameters, accessKeySecret: "testsecret")
        #expect(signature == "Y9eWn4nF8QPh3c4zAFkM/k/u7eA=")
        #expect(OpenAPISignature.percentEncode(signature) == "Y9eWn4nF8QPh3c4zAFkM%2Fk%2Fu7eA%3D")
    }

    @Test func genericDescribeRegionsExample() {
        let parameters = [
            "AccessKeyId": "testid",
            "Action": "DescribeRegions",
            "Format": "XML",
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
            "SignatureVersion": "1.0",
            "Timestamp": "2016-02-23T12:46:24Z",
            "Version": "2014-05-26",
            // Signature must be left out of what is signed.
            "Signature": "ignored",
        ]
        #expect(
            OpenAPISignature.stringToSign(method: "GET", parameters: parameters)
                == "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod"
                + "%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion"
                + "%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"
        )
        #expect(
            OpenAPISignature.sign(method: "GET", parameters: parameters, accessKeySecret: "testsecret")
                == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
        )
    }

    @Test func percentEncodingFollowsRFC3986() {
        #expect(OpenAPISignature.percentEncode("a b*c~d+e/é") == "a%20b%2Ac~d%2Be%2F%C3%A9")
    }

    @Test func timestampIsUTCSeconds() {
        #expect(OpenAPISignature.timestamp(Date(timeIntervalSince1970: 1_456_231_584)) == "2016-02-23T12:46:24Z")
        #expect(OpenAPISignature.timestamp(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00Z")
    }
}
