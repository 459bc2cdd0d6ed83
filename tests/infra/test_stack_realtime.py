"""The agents' WebSocket API: routes, stage, access logs, endpoint wiring and outputs, per stage."""

from __future__ import annotations

from tests.infra.cfn import function, label, one, resources

FUNCTIONS = ["ws-connect", "ws-message", "ws-disconnect", "dispatcher-sqs", "lease-reaper"]


def _api(synth):
    return one(synth.template_dict, "AWS::ApiGatewayV2::Api", Name=f"byoip-{synth.config.stage}-ws")


def test_websocket_api_selects_routes_by_action(stage_synth):
    _lid, api = _api(stage_synth)
    assert api["Properties"]["ProtocolType"] == "WEBSOCKET"
    assert api["Properties"]["RouteSelectionExpression"] == "$request.body.action"


def test_routes_map_to_their_functions(stage_synth):
    tpl = stage_synth.template_dict
    s = stage_synth.config.stage
    integrations = resources(tpl, "AWS::ApiGatewayV2::Integration")
    routes = {}
    for route in resources(tpl, "AWS::ApiGatewayV2::Route").values():
        props = route["Properties"]
        target = props["Target"]["Fn::Join"][1]
        assert target[0] == "integrations/"
        integration = integrations[target[1]["Ref"]]["Properties"]
        assert integration["IntegrationType"] == "AWS_PROXY"
        uri = label(tpl, integration["IntegrationUri"])
        routes[props["RouteKey"]] = uri
        assert props["AuthorizationType"] == "NONE"
    assert set(routes) == {"$connect", "$default", "$disconnect"}
    assert f"byoip-{s}-ws-connect" in routes["$connect"]
    assert f"byoip-{s}-ws-message" in routes["$default"]
    assert f"byoip-{s}-ws-disconnect" in routes["$disconnect"]


def test_no_route_response_so_replies_come_only_from_post_to_connection(stage_synth):
    assert resources(stage_synth.template_dict, "AWS::ApiGatewayV2::RouteResponse") == {}


def test_prod_stage_auto_deploys_with_json_access_logs(stage_synth):
    tpl = stage_synth.template_dict
    s = stage_synth.config.stage
    _lid, stage = one(tpl, "AWS::ApiGatewayV2::Stage", StageName="prod")
    logs = stage["Properties"]["AccessLogSettings"]
    assert stage["Properties"]["AutoDeploy"] is True
    assert label(tpl, logs["DestinationArn"]) == f"/aws/apigateway/byoip-{s}-ws-access"
    assert '"requestId":"$context.requestId"' in logs["Format"]
    assert '"connectionId":"$context.connectionId"' in logs["Format"]
    stage_synth.template.has_resource_properties(
        "AWS::Logs::LogGroup",
        {"LogGroupName": f"/aws/apigateway/byoip-{s}-ws-access", "RetentionInDays": 30},
    )


def test_api_gateway_may_invoke_each_route_function(stage_synth):
    tpl = stage_synth.template_dict
    s = stage_synth.config.stage
    invokers = {
        label(tpl, p["Properties"]["FunctionName"])
        for p in resources(tpl, "AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "apigateway.amazonaws.com"
    }
    assert invokers == {f"byoip-{s}-ws-connect", f"byoip-{s}-ws-message", f"byoip-{s}-ws-disconnect"}


def _endpoint(tpl, scheme):
    api_lid, _api_res = one(tpl, "AWS::ApiGatewayV2::Api", ProtocolType="WEBSOCKET")
    return {
        "Fn::Join": [
            "",
            [
                f"{scheme}://",
                {"Ref": api_lid},
                ".execute-api.",
                {"Ref": "AWS::Region"},
                ".",
                {"Ref": "AWS::URLSuffix"},
                "/prod",
            ],
        ]
    }


def test_every_function_gets_the_full_https_management_endpoint(stage_synth):
    tpl = stage_synth.template_dict
    s = stage_synth.config.stage
    for name in FUNCTIONS:
        _lid, fn = function(tpl, f"byoip-{s}-{name}")
        env = fn["Properties"]["Environment"]["Variables"]
        assert env["WS_ENDPOINT"] == _endpoint(tpl, "https")
        assert env["WS_PUBLIC_URL"] == _endpoint(tpl, "wss")  # where agents, and the probe, connect


def test_outputs_websocket_url_and_jobs_queue_url(stage_synth):
    tpl = stage_synth.template_dict
    s = stage_synth.config.stage
    outputs = tpl["Outputs"]
    assert outputs["WebSocketUrl"]["Value"] == _endpoint(tpl, "wss")
    queue_lid, _q = one(tpl, "AWS::SQS::Queue", QueueName=f"byoip-{s}-jobs")
    assert outputs["JobsQueueUrl"]["Value"] == {"Ref": queue_lid}
