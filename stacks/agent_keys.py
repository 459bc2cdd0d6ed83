"""The agents' signing key: rotation on a schedule, an issuer role, and who may read or change it.

The secret itself is made by Storage (a stateful resource); this construct rotates it every
30 days with the `secret-rotation` function and restricts GetSecretValue to ws-connect, the
rotation function, the token issuer role (the one operators assume for `byoip token`), the
black-box probe (which mints its own token, lambdas/common/probe.py) and the emergency rotation.
Writes to the key are denied to every principal but the rotation function, the emergency rotation
and the break-glass role; changes to the secret's settings also to the CDK deploy role (see WRITES).
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from stacks.functions import XRAY_REASON
from stacks.grants import allow_secret_value
from stacks.nag import acknowledge
from stacks.trust import deploy_role_arn

# Far apart from the 15-minute token lifetime: a token signed just before a rotation verifies
# against AWSPREVIOUS until it expires; only a second rotation within 15 minutes would cut it.
ROTATION_EVERY = Duration.days(30)
# Who may change the key (the value and its stages): installing a known key forges every token.
KEY_WRITES = ("PutSecretValue", "UpdateSecretVersionStage", "DeleteSecret")
# Who may change the secret's settings: rotation, description/KMS key, the resource policy. The CDK
# deploy role keeps these (CloudFormation updates the RotationSchedule and this policy with them:
# denying it would lock out every later deploy); it can change the stack anyway.
SETTINGS_WRITES = (
    "UpdateSecret",
    "RotateSecret",
    "CancelRotateSecret",
    "PutResourcePolicy",
    "DeleteResourcePolicy",
)
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
        trusted: iam.IPrincipal,
    ) -> None:
        super().__init__(scope, cid)
        self._secret = secret
        secret.add_rotation_schedule("Rotation", rotation_lambda=rotation, automatically_after=ROTATION_EVERY)
        # Secrets Manager may invoke the rotation function for this secret of this account only.
        for child in rotation.node.children:
            if isinstance(child, lambda_.CfnPermission) and child.principal == "secretsmanager.amazonaws.com":
                child.source_arn = secret.secret_arn
                child.source_account = Stack.of(self).account
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
        # One acknowledgement per role and finding: the function's X-Ray grant shares this one.
        acknowledge(rotation.role, "IAM5[Resource::*]", f"{RANDOM_PASSWORD_REASON} {XRAY_REASON}")
        self.issuer_role = iam.Role(
            self,
            "TokenIssuer",
            assumed_by=trusted,
            description="Assumed by operators to mint agent tokens (byoip token --secret-arn)",
        )
        allow_secret_value(self.issuer_role, secret)
        # The black-box probe mints its own token with the current key, as the issuer would.
        self._readers = [verifier.role_arn, rotation.role.role_arn, self.issuer_role.role_arn, probe.role_arn]
        self._rotation_role = rotation.role.role_arn
        CfnOutput(
            Stack.of(self),
            "TokenIssuerRoleArn",
            value=self.issuer_role.role_arn,
            description="Assume it to mint agent tokens: byoip token --secret-arn <WsJwtSecretArn>",
        )
        CfnOutput(
            Stack.of(self), "WsJwtSecretArn", value=secret.secret_arn, description="The agents' HS256 key"
        )

    def restrict(self, *, emergency: iam.IRole, break_glass_role: str) -> None:
        """The resource policy: who reads the key, who changes it (the emergency rotation's role is
        made later, by the automation layer, hence a separate step)."""
        secret, stack = self._secret, Stack.of(self)
        glass = f"arn:{stack.partition}:iam::{stack.account}:role/{break_glass_role}"
        readers = [*self._readers, emergency.role_arn]
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
        for sid, actions, allowed in (
            (
                "OnlyRotationEmergencyAndBreakGlassWriteTheKey",
                KEY_WRITES,
                [self._rotation_role, emergency.role_arn, glass],
            ),
            (
                "OnlyEmergencyBreakGlassAndDeployChangeSettings",
                SETTINGS_WRITES,
                [emergency.role_arn, glass, deploy_role_arn(self)],
            ),
        ):
            secret.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=sid,
                    effect=iam.Effect.DENY,
                    principals=[iam.AnyPrincipal()],
                    actions=[f"secretsmanager:{action}" for action in actions],
                    resources=["*"],
                    conditions={"ArnNotEquals": {"aws:PrincipalArn": allowed}},
                )
            )
