"""Tables, buckets, the KMS key and the JWT secret, as docs/contracts.md fixes them, per stage."""

from __future__ import annotations

from aws_cdk.assertions import Match

from tests.infra.cfn import label, one, resources

SSL_DENY = Match.object_like(
    {
        "Effect": "Deny",
        "Action": Match.any_value(),
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
)


def test_jobs_table_keys_ttl_pitr_and_sparse_indexes(stage_synth):
    s = stage_synth.config.stage
    _lid, table = one(stage_synth.template_dict, "AWS::DynamoDB::Table", TableName=f"byoip-{s}-jobs")
    props = table["Properties"]
    assert props["KeySchema"] == [{"AttributeName": "jobId", "KeyType": "HASH"}]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    indexes = {
        gsi["IndexName"]: (gsi["KeySchema"], gsi["Projection"]) for gsi in props["GlobalSecondaryIndexes"]
    }
    assert indexes == {
        "ByLease": (
            [
                {"AttributeName": "leaseState", "KeyType": "HASH"},
                {"AttributeName": "leaseExpiresAt", "KeyType": "RANGE"},
            ],
            {"ProjectionType": "ALL"},
        ),
        "ByHeldAgent": (
            [
                {"AttributeName": "heldAgentId", "KeyType": "HASH"},
                {"AttributeName": "createdAt", "KeyType": "RANGE"},
            ],
            {"ProjectionType": "ALL"},
        ),
    }
    types = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
    assert types == {
        "jobId": "S",
        "leaseState": "S",
        "leaseExpiresAt": "N",
        "heldAgentId": "S",
        "createdAt": "N",
    }


def test_agents_and_creator_limits_tables(stage_synth):
    s = stage_synth.config.stage
    t = stage_synth.template
    t.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "TableName": f"byoip-{s}-agents",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": True},
            # the creator watch's targeted reads: sparse, keys only (no index write per heartbeat)
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": "ByWatch",
                    "KeySchema": [
                        {"AttributeName": "watchFor", "KeyType": "HASH"},
                        {"AttributeName": "pk", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            ],
        },
    )
    t.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "TableName": f"byoip-{s}-creator-limits",
            "KeySchema": [{"AttributeName": "creatorId", "KeyType": "HASH"}],
            "TimeToLiveSpecification": Match.absent(),
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            # no index write per counted job: the index key changes only with the breaker's state
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": "ByBreaker",
                    "KeySchema": [
                        {"AttributeName": "breakerState", "KeyType": "HASH"},
                        {"AttributeName": "creatorId", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            ],
        },
    )
    assert len(resources(stage_synth.template_dict, "AWS::DynamoDB::Table")) == 3


def test_tables_and_buckets_are_retained_on_stack_deletion(stage_synth):
    t = stage_synth.template
    for cfn_type in ("AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::SecretsManager::Secret"):
        for res in resources(stage_synth.template_dict, cfn_type).values():
            assert res["DeletionPolicy"] == "Retain", cfn_type
    t.has_resource("AWS::KMS::Key", {"DeletionPolicy": "Retain"})


def test_data_key_rotates(stage_synth):
    stage_synth.template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    stage_synth.template.has_resource_properties(
        "AWS::KMS::Alias", {"AliasName": f"alias/byoip-{stage_synth.config.stage}-data"}
    )


def _bucket(template, construct_id):
    found = [
        (lid, res)
        for lid, res in resources(template, "AWS::S3::Bucket").items()
        if res["Metadata"]["aws:cdk:path"].endswith(f"/Storage/{construct_id}/Resource")
    ]
    assert len(found) == 1
    return found[0]


def test_patches_bucket_is_versioned_kms_private_and_access_logged(stage_synth):
    tpl = stage_synth.template_dict
    _lid, bucket = _bucket(tpl, "AgentPatchesBucket")
    props = bucket["Properties"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    _assert_private_kms_logged(tpl, props, "AgentPatchesBucket/")


def test_logs_bucket_is_kms_private_and_access_logged(stage_synth):
    tpl = stage_synth.template_dict
    _lid, bucket = _bucket(tpl, "AgentLogsBucket")
    props = bucket["Properties"]
    assert "VersioningConfiguration" not in props
    _assert_private_kms_logged(tpl, props, "AgentLogsBucket/")


def _assert_private_kms_logged(tpl, props, log_prefix):
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert label(tpl, rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]) == "DataKey"
    assert rule["BucketKeyEnabled"] is True
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert label(tpl, props["LoggingConfiguration"]["DestinationBucketName"]) == "AccessLogsBucket"
    assert props["LoggingConfiguration"]["LogFilePrefix"] == log_prefix


def test_every_bucket_denies_plain_http(stage_synth):
    tpl = stage_synth.template_dict
    policies = resources(tpl, "AWS::S3::BucketPolicy").values()
    secured = {label(tpl, p["Properties"]["Bucket"]) for p in policies if _denies_http(p)}
    assert secured == {"AgentPatchesBucket", "AgentLogsBucket", "AccessLogsBucket"}


def _denies_http(policy):
    return any(
        st["Effect"] == "Deny" and st.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        for st in policy["Properties"]["PolicyDocument"]["Statement"]
    )


def test_access_logs_bucket_is_private_and_expires_logs(stage_synth):
    tpl = stage_synth.template_dict
    _lid, bucket = _bucket(tpl, "AccessLogsBucket")
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] is True
    assert props["LifecycleConfiguration"]["Rules"] == [{"ExpirationInDays": 90, "Status": "Enabled"}]
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}


def test_jwt_secret_is_generated_and_long_enough(stage_synth):
    s = stage_synth.config.stage
    _lid, secret = one(stage_synth.template_dict, "AWS::SecretsManager::Secret", Name=f"byoip/{s}/ws-jwt")
    generated = secret["Properties"]["GenerateSecretString"]
    assert generated["PasswordLength"] >= 32
    assert generated["ExcludePunctuation"] is True
    assert "SecretString" not in secret["Properties"]
