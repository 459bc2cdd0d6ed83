"""Signed patches in the stack: the ECC signing key, the release role, the bucket's write lock."""

from __future__ import annotations

from tests.infra.cfn import label, one, resources

WRITES = [
    "s3:PutObject",
    "s3:PutObjectAcl",
    "s3:PutObjectVersionAcl",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
]


def _release_role(t, s):
    return one(t, "AWS::IAM::Role", RoleName=f"byoip-{s}-patch-release")


def test_signing_key_is_an_asymmetric_p256_signing_key_with_its_alias(stage_synth):
    t, s = stage_synth.template_dict, stage_synth.config.stage
    key_id, key = one(t, "AWS::KMS::Key", KeySpec="ECC_NIST_P256")
    assert key["Properties"]["KeyUsage"] == "SIGN_VERIFY"
    assert key["DeletionPolicy"] == "Retain"
    one(
        t,
        "AWS::KMS::Alias",
        AliasName=f"alias/byoip-{s}-patch-signing",
        TargetKeyId={"Fn::GetAtt": [key_id, "Arn"]},
    )
    assert stage_synth.template_dict["Outputs"]["PatchSigningKeyArn"]["Value"] == {
        "Fn::GetAtt": [key_id, "Arn"]
    }


def test_the_bucket_name_is_published_for_the_cli(stage_synth):
    t, s = stage_synth.template_dict, stage_synth.config.stage
    _lid, param = one(t, "AWS::SSM::Parameter", Name=f"/byoip/{s}/patches-bucket")
    assert label(t, param["Properties"]["Value"]) == "AgentPatchesBucket"


def test_only_the_release_role_may_write_the_patches_bucket(stage_synth):
    t, s = stage_synth.template_dict, stage_synth.config.stage
    role_id, _role = _release_role(t, s)
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in resources(t, "AWS::S3::BucketPolicy").values()
        if label(t, p["Properties"]["Bucket"]) == "AgentPatchesBucket"
    ]
    (statements,) = policies
    (deny,) = [st for st in statements if st.get("Sid") == "OnlyPatchReleaseRoleWrites"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == {"AWS": "*"}
    assert sorted(deny["Action"]) == sorted(WRITES)
    assert deny["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": {"Fn::GetAtt": [role_id, "Arn"]}}}
    assert label(t, deny["Resource"]) == "AgentPatchesBucket/*"


def test_release_role_gets_exactly_what_publish_calls(stage_synth):
    t, s = stage_synth.template_dict, stage_synth.config.stage
    role_id, role = _release_role(t, s)
    assert role["Properties"]["MaxSessionDuration"] == 3600
    granted = set()
    for policy in resources(t, "AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            for st in policy["Properties"]["PolicyDocument"]["Statement"]:
                assert st["Effect"] == "Allow"
                actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
                granted |= {(a, label(t, st["Resource"])) for a in actions}
    assert granted == {
        (
            "ssm:GetParameter",
            f"arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/byoip/{s}/patches-bucket",
        ),
        ("s3:ListBucket", "AgentPatchesBucket"),
        ("s3:PutObject", "AgentPatchesBucket/patches/*"),
        ("s3:GetObject", "AgentPatchesBucket/patches/*"),
        ("kms:Sign", "PatchSigningKey"),
        ("kms:Verify", "PatchSigningKey"),
        ("kms:GenerateDataKey", "DataKey"),
    }


def test_no_other_role_may_write_patches_or_sign(stage_synth):
    t, s = stage_synth.template_dict, stage_synth.config.stage
    role_id, _role = _release_role(t, s)
    for policy in resources(t, "AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            continue
        for st in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            targets = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            named = {label(t, r) for r in targets if not isinstance(r, str)}
            assert not (
                {"s3:PutObject", "s3:DeleteObject"} & set(actions) and "AgentPatchesBucket/*" in named
            )
            assert "kms:Sign" not in actions


def test_only_the_release_role_may_sign_with_the_patch_key(stage_synth):
    t, s = stage_synth.template_dict, stage_synth.config.stage
    role_id, _role = _release_role(t, s)
    _key_id, key = one(t, "AWS::KMS::Key", KeySpec="ECC_NIST_P256")
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    (deny,) = [st for st in statements if st["Effect"] == "Deny"]
    assert deny == {
        "Sid": "OnlyPatchReleaseRoleSigns",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "kms:Sign",
        "Resource": "*",
        "Condition": {"ArnNotEquals": {"aws:PrincipalArn": {"Fn::GetAtt": [role_id, "Arn"]}}},
    }
