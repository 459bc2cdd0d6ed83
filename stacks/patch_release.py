"""Signed agent patches: the signing key, the release role, the bucket's write lock and the key's sign lock.

`byoip patch publish` runs as the release role: it signs with the ECC key (KMS keeps the private
half; agents are configured with the public half) and writes under `patches/`. The bucket policy
denies object writes and deletes to every other principal, so write access to the bucket alone
can no longer ship code to devices. Grants to the role are made by the stack, where the pieces meet.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from contract.names import Names
from stacks.nag import acknowledge, logical_id

# Object writes the bucket policy keeps for the release role alone.
WRITE_ACTIONS = ("PutObject", "PutObjectAcl", "PutObjectVersionAcl", "DeleteObject", "DeleteObjectVersion")
RELEASE_SESSION = Duration.hours(1)
RELEASE_PREFIX_REASON = (
    "byoip patch publish writes patches/<version>/<file> and patches/latest.json; versions are chosen at "
    "release time, so the grant is PutObject/GetObject (HeadObject) on the patches/ prefix only."
)


class PatchRelease(Construct):
    """The patch-signing key (ECC_NIST_P256, SIGN_VERIFY), the release role, the bucket-name parameter."""

    def __init__(
        self, scope: Construct, cid: str, *, names: Names, bucket: s3.IBucket, trusted: iam.IPrincipal
    ) -> None:
        super().__init__(scope, cid)
        self.signing_key = kms.Key(
            self,
            "PatchSigningKey",
            key_spec=kms.KeySpec.ECC_NIST_P256,
            key_usage=kms.KeyUsage.SIGN_VERIFY,
            alias=names.patch_signing_key_alias,
            description=f"BYO-IP {names.stage}: signs agent patch manifests (ECDSA_SHA_256)",
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.release_role = iam.Role(
            self,
            "PatchReleaseRole",
            role_name=names.patch_release_role,
            assumed_by=trusted,
            max_session_duration=RELEASE_SESSION,
            description="byoip patch publish: the only principal that may write the agent patches bucket",
        )
        self.bucket_parameter = ssm.StringParameter(
            self,
            "PatchesBucketParameter",
            parameter_name=names.patches_bucket_parameter,
            string_value=bucket.bucket_name,
            description="Name of the agent patches bucket (byoip patch publish reads it)",
        )


def only_release_role_writes(bucket: s3.IBucket, role: iam.IRole) -> None:
    """Deny object writes and deletes on the whole bucket to every principal but `role`."""
    bucket.add_to_resource_policy(
        iam.PolicyStatement(
            sid="OnlyPatchReleaseRoleWrites",
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=[f"s3:{action}" for action in WRITE_ACTIONS],
            resources=[bucket.arn_for_objects("*")],
            conditions={"ArnNotEquals": {"aws:PrincipalArn": role.role_arn}},
        )
    )


def only_release_role_signs(key: kms.IKey, role: iam.IRole) -> None:
    """Deny kms:Sign on the signing key to every principal but `role` (the key policy otherwise
    lets any IAM policy of the account grant it); key administration stays with the account."""
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="OnlyPatchReleaseRoleSigns",
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=["kms:Sign"],
            resources=["*"],
            conditions={"ArnNotEquals": {"aws:PrincipalArn": role.role_arn}},
        )
    )


def allow_release(release: PatchRelease, *, bucket: s3.IBucket, data_key: kms.IKey) -> None:
    """What `byoip patch publish` calls: the bucket parameter, HeadObject (with ListBucket, so a new
    version is a 404) and PutObject under patches/, Sign/Verify, and the data key for SSE-KMS writes."""
    role = release.release_role

    def allow(actions: list[str], resource: str) -> None:
        iam.Grant.add_to_principal(grantee=role, actions=actions, resource_arns=[resource])

    allow(["ssm:GetParameter"], release.bucket_parameter.parameter_arn)
    # Without ListBucket, S3 answers 403 instead of 404 for a missing key (the version check's HeadObject).
    allow(["s3:ListBucket"], bucket.bucket_arn)
    allow(["s3:PutObject", "s3:GetObject"], bucket.arn_for_objects("patches/*"))
    acknowledge(role, f"IAM5[Resource::<{logical_id(bucket)}.Arn>/patches/*]", RELEASE_PREFIX_REASON)
    allow(["kms:Sign", "kms:Verify"], release.signing_key.key_arn)
    allow(["kms:GenerateDataKey"], data_key.key_arn)
