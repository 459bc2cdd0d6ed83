"""The agents' signing key: rotation on a schedule, an issuer role, and who may read it.

The secret itself is made by Storage (a stateful resource); this construct rotates it every
30 days with the `secret-rotation` function and restricts GetSecretValue to ws-connect, the
rotation function, the token issuer role (the one operators assume for `byoip token`) and the
black-box probe (which mints its own token, lambdas/common/probe.py).
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from stacks.grants import allow_secret_value
from stacks.nag import acknowledge

# Far apart from the 15-minute token lifetime: a token signed just before a rotation verifies
# against AWSPREVIOUS until it expires; only a second rotation within 15 minutes would cut it.
ROTATION_EVERY = Duration.days(30)
RANDOM_PASSWORD_REASON = (
    "secretsmanager:GetRandomPassword is not a resource-level action: IAM only accepts `*` for it; "
    "the rotation function uses it to generate the new key and can read no other secret."
)


class AgentKeys(Construct):
    """Rotation schedule, `TokenIssuer` role (attribute `issuer_role`) and the secret's resource policy."""

    def __init__(
        self,
        scope: Construct,
        cid: str,
        *,
        secret: secretsmanager.Secret,
        rotation: lambda_.Function,
        verifier: iam.IRole,
        rotation_failed_rule: str,
        probe: iam.IRole,
    ) -> None:
        super().__init__(scope, cid)
        secret.add_rotation_schedule("Rotation", rotation_lambda=rotation, automatically_after=ROTATION_EVERY)
        # Secrets Manager reports a failed rotation as the service event RotationFailed (CloudTrail
        # detail type, delivered to the default bus without a trail). The rule has no target: the
        # RotationFailed alarm reads its MatchedEvents (monitoring/watched.py).
        self.rotation_failed = events.Rule(
            self,
            "RotationFailed",
            rule_name=rotation_failed_rule,
            description="Secrets Manager could not rotate the agents' signing key",
            event_pattern=events.EventPattern(
                source=["aws.secretsmanager"],
                detail_type=["AWS Service Event via CloudTrail"],
                detail={
                    "eventName": ["RotationFailed"],
                    "additionalEventData": {"SecretId": [secret.secret_arn]},
                },
            ),
        )
        assert rotation.role is not None
        acknowledge(rotation.role, "IAM5[Resource::*]", RANDOM_PASSWORD_REASON)
        self.issuer_role = iam.Role(
            self,
            "TokenIssuer",
            assumed_by=iam.AccountRootPrincipal(),
            description="Assumed by operators to mint agent tokens (byoip token --secret-arn)",
        )
        allow_secret_value(self.issuer_role, secret)
        # The black-box probe mints its own token with the current key, as the issuer would.
        readers = [verifier.role_arn, rotation.role.role_arn, self.issuer_role.role_arn, probe.role_arn]
        secret.add_to_resource_policy(
            iam.PolicyStatement(
                sid="OnlyVerifierRotationIssuerAndProbeRead",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["secretsmanager:GetSecretValue"],
                resources=["*"],
                conditions={"StringNotEquals": {"aws:PrincipalArn": readers}},
            )
        )
        CfnOutput(
            Stack.of(self),
            "TokenIssuerRoleArn",
            value=self.issuer_role.role_arn,
            description="Assume it to mint agent tokens: byoip token --secret-arn <WsJwtSecretArn>",
        )
        CfnOutput(
            Stack.of(self), "WsJwtSecretArn", value=secret.secret_arn, description="The agents' HS256 key"
        )
