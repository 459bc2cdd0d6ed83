"""auth.py and keys.py as plain functions: token bounds, the kid lookup and the secret cache.

Secrets Manager is a small fake here (it counts reads); the monotonic clock of the cache is a
settable one, so both sides of each cache boundary (10 s after a refresh, 60 s otherwise) are
exact. Tests that mint or verify a token stop the wall clock (`frozen`), so a second boundary
passing between minting and checking (a slow or busy machine) changes nothing.
"""

from __future__ import annotations

import hashlib
import time
import types
from datetime import UTC, datetime
from unittest import mock

import jwt
import pytest
import time_machine
from botocore.exceptions import ClientError

from lambdas.common import auth, aws, clock, keys, session
from lambdas.common.auth import AgentIdentity, MisconfiguredSecret, TokenRejected, key_for, mint_token
from lambdas.common.auth import verify_token as verify
from lambdas.common.settings import Settings
from tests.lambdas import helpers as h
from tests.lambdas.conftest import NOW

ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:byoip/test/ws-jwt"
OLD, NEW = "old-key-" + "o" * 40, "new-key-" + "n" * 40


class FakeSecrets:
    """GetSecretValue over {stage: value}; a missing stage is ResourceNotFoundException, `fail` makes
    every read fail with that error code, `responses` a stage's read with that raw error response.
    The AWSCURRENT version was made (CreatedDate) at `rotated_at` (default: the handlers' now)."""

    def __init__(self, **stages: str) -> None:
        self.stages = stages
        self.reads: list[tuple[str, str]] = []
        self.fail: str | None = None
        self.responses: dict[str, dict] = {}
        self.rotated_at: int | None = None

    def get_secret_value(self, *, SecretId: str, VersionStage: str) -> dict[str, object]:  # noqa: N803
        self.reads.append((SecretId, VersionStage))
        if VersionStage in self.responses:
            raise ClientError(self.responses[VersionStage], "GetSecretValue")  # type: ignore[arg-type]
        code = self.fail or ("ResourceNotFoundException" if VersionStage not in self.stages else None)
        if code:
            raise ClientError({"Error": {"Code": code}}, "GetSecretValue")
        made = clock.now() if self.rotated_at is None else self.rotated_at
        return {"SecretString": self.stages[VersionStage], "CreatedDate": datetime.fromtimestamp(made, UTC)}


@pytest.fixture
def monotonic(monkeypatch):
    """keys.py's monotonic clock, settable: `monotonic.value = ...`."""
    clock = types.SimpleNamespace(value=1000.0)
    monkeypatch.setattr(keys, "time", types.SimpleNamespace(monotonic=lambda: clock.value))
    keys.clear_cache()
    yield clock
    keys.clear_cache()


@pytest.fixture
def frozen():
    """The wall clock (time.time, and PyJWT's datetime.now) stopped 0.9 s into the current second,
    which it yields: minting and verifying see one instant however long the test takes."""
    second = int(time.time())
    with time_machine.travel(second + 0.9, tick=False):
        yield second


@pytest.fixture
def secrets():
    fake = FakeSecrets(AWSCURRENT=NEW, AWSPREVIOUS=OLD)
    aws.override("secretsmanager", fake)
    yield fake
    aws.reset()


def config(secret: str = "", arn: str = ARN) -> Settings:
    return Settings.from_env({"WS_JWT_SECRET": secret, "WS_JWT_SECRET_ARN": arn})


def token_with(key: str, *, lifetime: int = 600, iat: int | None = None, **headers: object) -> str:
    issued = int(time.time()) if iat is None else iat
    claims = {"agentId": "agent-1", "creatorId": "creator-1", "iat": issued, "exp": issued + lifetime}
    return jwt.encode(claims, key, algorithm="HS256", headers=headers or None)


# --- keys -----------------------------------------------------------------------------------


def test_a_keys_id_is_the_first_16_hex_digits_of_its_sha256():
    assert keys.key_id("abc") == hashlib.sha256(b"abc").hexdigest()[:16] == "ba7816bf8f01cfea"


def test_the_raw_local_key_is_the_only_key_and_nothing_is_read(secrets, monotonic):
    assert keys.verification_keys(config(h.SECRET)) == {keys.key_id(h.SECRET): h.SECRET}
    assert keys.current_key(config(h.SECRET)) == h.SECRET
    assert secrets.reads == []


def test_no_key_configured_is_a_misconfiguration(monotonic):
    with pytest.raises(MisconfiguredSecret, match="^neither WS_JWT_SECRET nor WS_JWT_SECRET_ARN is set$"):
        keys.verification_keys(config(arn=""))


def test_the_current_and_previous_versions_both_verify(secrets, monotonic):
    assert keys.verification_keys(config()) == {keys.key_id(NEW): NEW, keys.key_id(OLD): OLD}
    assert secrets.reads == [(ARN, "AWSCURRENT"), (ARN, "AWSPREVIOUS")]
    assert keys.current_key(config()) == NEW
    assert secrets.reads[-1] == (ARN, "AWSCURRENT")


@pytest.mark.parametrize("previous", [None, ""])
def test_before_the_first_rotation_only_the_current_key_verifies(previous, secrets, monotonic):
    secrets.stages = {"AWSCURRENT": NEW} if previous is None else {"AWSCURRENT": NEW, "AWSPREVIOUS": ""}
    assert keys.verification_keys(config()) == {keys.key_id(NEW): NEW}


def test_an_empty_current_version_is_a_misconfiguration(secrets, monotonic):
    secrets.stages = {"AWSCURRENT": "", "AWSPREVIOUS": OLD}
    with pytest.raises(MisconfiguredSecret, match="^the JWT secret is empty$"):
        keys.verification_keys(config())
    assert keys.current_key(config()) == ""


def test_a_missing_current_version_or_any_other_error_is_raised(secrets, monotonic):
    secrets.stages = {"AWSPREVIOUS": OLD}
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        keys.verification_keys(config())
    secrets.stages, secrets.fail = {"AWSCURRENT": NEW, "AWSPREVIOUS": OLD}, "AccessDeniedException"
    with pytest.raises(ClientError, match="AccessDeniedException"):
        keys.verification_keys(config())


def test_the_keys_are_cached_for_a_minute(secrets, monotonic):
    keys.verification_keys(config())
    secrets.stages = {"AWSCURRENT": "third-key-" + "t" * 40}
    monotonic.value += keys.CACHE_SECONDS - 0.5
    assert keys.verification_keys(config()) == {keys.key_id(NEW): NEW, keys.key_id(OLD): OLD}
    assert len(secrets.reads) == 2
    monotonic.value += 0.5
    assert keys.verification_keys(config()) == {keys.key_id("third-key-" + "t" * 40): "third-key-" + "t" * 40}
    assert len(secrets.reads) == 4


def test_a_refresh_rereads_only_after_ten_seconds(secrets, monotonic):
    keys.verification_keys(config())
    monotonic.value += keys.REFRESH_AFTER_SECONDS - 0.5
    keys.verification_keys(config(), refresh=True)
    assert len(secrets.reads) == 2
    monotonic.value += 0.5
    keys.verification_keys(config(), refresh=True)
    assert len(secrets.reads) == 4
    # the re-read restarted the cache's age
    monotonic.value += keys.REFRESH_AFTER_SECONDS - 0.5
    keys.verification_keys(config(), refresh=True)
    assert len(secrets.reads) == 4


def test_the_cache_is_per_secret_and_clear_cache_forgets_it(secrets, monotonic):
    keys.verification_keys(config())
    keys.verification_keys(config(arn=ARN + "-other"))
    assert [arn for arn, _ in secrets.reads] == [ARN, ARN, ARN + "-other", ARN + "-other"]
    keys.clear_cache()
    keys.verification_keys(config())
    assert len(secrets.reads) == 6


def test_an_error_response_without_an_error_dict_is_raised_as_it_came(secrets, monotonic, monkeypatch):
    # ClientError accepts any response dict; one without "Error" is still not "no AWSPREVIOUS yet"
    # (ResourceNotFoundException): reading it must re-raise that ClientError, which ws-connect
    # answers with a 503 (secret_unavailable), rather than fail on the missing dict and escape ws-connect.
    secrets.responses["AWSPREVIOUS"] = {"ResponseMetadata": {"HTTPStatusCode": 502}}
    with pytest.raises(ClientError) as caught:
        keys.verification_keys(config())
    assert caught.value.response == {"ResponseMetadata": {"HTTPStatusCode": 502}}
    monkeypatch.setenv("WS_JWT_SECRET", "")
    monkeypatch.setenv("WS_JWT_SECRET_ARN", ARN)
    logger = mock.Mock()
    tok = token_with(NEW, kid=keys.key_id(NEW))
    assert session.connect(h.connect_event(tok, "conn-1"), logger) == session.UNAVAILABLE
    assert [(c[0], c.args) for c in logger.method_calls] == [
        ("error", ("ws_connect_failed reason=secret_unavailable",))
    ]


# --- key_for --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "why"),
    [
        (None, "no token"),
        ("", "no token"),
        ("not-a-jwt", "DecodeError"),
        (token_with(NEW), "no kid"),
        (token_with(NEW, kid=""), "no kid"),
    ],
)
def test_key_for_refuses_a_token_that_names_no_key(token, why, secrets, monotonic):
    with pytest.raises(TokenRejected) as caught:
        key_for(token, config())
    assert (caught.value.why, str(caught.value)) == (why, why)


def test_key_for_finds_the_current_and_the_previous_key(secrets, monotonic):
    assert key_for(token_with(NEW, kid=keys.key_id(NEW)), config()) == NEW
    assert key_for(token_with(OLD, kid=keys.key_id(OLD)), config()) == OLD
    assert len(secrets.reads) == 2


def test_an_unknown_kid_rereads_the_keys_once_the_refresh_interval_passed(secrets, monotonic):
    keys.verification_keys(config())
    rotated = "rotated-key-" + "r" * 40
    secrets.stages = {"AWSCURRENT": rotated, "AWSPREVIOUS": NEW}
    tok = token_with(rotated, kid=keys.key_id(rotated))
    monotonic.value += keys.REFRESH_AFTER_SECONDS - 1
    with pytest.raises(TokenRejected, match="^unknown kid$"):
        key_for(tok, config())
    monotonic.value += 1
    assert key_for(tok, config()) == rotated


def test_the_previous_key_window_is_twice_the_longest_token_lifetime():
    assert keys.PREVIOUS_KEY_WINDOW_SECONDS == 2 * auth.MAX_LIFETIME_SECONDS


def test_previous_key_accepted_for_1800s_after_rotation(secrets, monotonic, clock):
    # GIVEN a rotation (the current version made) at NOW, and keys re-read at every call
    secrets.rotated_at = NOW
    monotonic.value += keys.CACHE_SECONDS
    old_kid = keys.key_id(OLD)
    # THEN the old key verifies one second before the window closes, and not at its end
    clock.set(NOW + keys.PREVIOUS_KEY_WINDOW_SECONDS - 1)
    assert keys.key_named(config(), old_kid) == OLD
    clock.set(NOW + keys.PREVIOUS_KEY_WINDOW_SECONDS)
    assert keys.key_named(config(), old_kid) is None
    assert keys.verification_keys(config()) == {keys.key_id(NEW): NEW}
    # and the current key is unaffected
    assert keys.key_named(config(), keys.key_id(NEW)) == NEW


def test_a_previous_key_token_rereads_keys_older_than_ten_seconds(secrets, monotonic, clock):
    # GIVEN keys read with a previous key in its window
    assert keys.key_named(config(), keys.key_id(OLD)) == OLD
    assert len(secrets.reads) == 2
    # WHEN AWSPREVIOUS is removed (an emergency rotation)
    secrets.stages = {"AWSCURRENT": NEW}
    # THEN the cache answers for under ten seconds, and the re-read after that refuses the old key
    monotonic.value += keys.REFRESH_AFTER_SECONDS - 0.5
    assert keys.key_named(config(), keys.key_id(OLD)) == OLD
    assert len(secrets.reads) == 2
    monotonic.value += 0.5
    assert keys.key_named(config(), keys.key_id(OLD)) is None
    assert len(secrets.reads) == 4
    # and the current key is served from the cache without a read
    assert keys.key_named(config(), keys.key_id(NEW)) == NEW
    assert len(secrets.reads) == 4


def test_a_current_version_without_a_date_gives_the_previous_key_no_window(secrets, monotonic):
    real = secrets.get_secret_value
    secrets.get_secret_value = lambda **kw: {k: v for k, v in real(**kw).items() if k != "CreatedDate"}
    assert keys.verification_keys(config()) == {keys.key_id(NEW): NEW}


# --- mint_token / verify_token --------------------------------------------------------------


@pytest.mark.parametrize("lifetime", [0, -1, auth.MAX_LIFETIME_SECONDS + 1])
def test_mint_refuses_a_lifetime_outside_1_to_900_seconds(lifetime):
    with pytest.raises(ValueError, match=rf"^invalid token lifetime {lifetime}s: allowed 1-900s$"):
        mint_token(h.SECRET, "agent-1", "creator-1", lifetime_s=lifetime)


@pytest.mark.parametrize("lifetime", [1, auth.MAX_LIFETIME_SECONDS])
def test_mint_signs_exactly_the_claims_verify_accepts(lifetime, frozen):
    # a 1 s token minted at `now` expires at now + 1: on a running clock, verify raced that second
    now = frozen
    tok = mint_token(h.SECRET, "agent-1", "creator-1", lifetime_s=lifetime, now=now)
    assert jwt.get_unverified_header(tok) == {"alg": "HS256", "typ": "JWT", "kid": keys.key_id(h.SECRET)}
    claims = jwt.decode(tok, h.SECRET, algorithms=["HS256"])
    assert claims == {"agentId": "agent-1", "creatorId": "creator-1", "iat": now, "exp": now + lifetime}
    assert verify(tok, h.SECRET) == AgentIdentity(
        "agent-1", "creator-1", now, now + lifetime, keys.key_id(h.SECRET)
    )


def test_mint_issues_at_the_given_now():
    tok = mint_token(h.SECRET, "agent-1", "creator-1", lifetime_s=60, now=1_000_000)
    claims = jwt.decode(tok, h.SECRET, algorithms=["HS256"], options={"verify_exp": False})
    assert (claims["iat"], claims["exp"]) == (1_000_000, 1_000_060)


def test_mint_without_now_issues_at_the_current_second(frozen):
    # the clock reads `frozen` + 0.9 s: iat is that second, truncated, not rounded up
    claims = jwt.decode(mint_token(h.SECRET, "a", "c"), h.SECRET, algorithms=["HS256"])
    assert (claims["iat"], claims["exp"]) == (frozen, frozen + 600)


def test_mints_default_lifetime_is_ten_minutes(frozen):
    claims = jwt.decode(mint_token(h.SECRET, "a", "c", now=frozen), h.SECRET, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 600


def test_a_token_living_exactly_the_maximum_lifetime_is_accepted_one_second_more_is_not(frozen):
    issued = frozen
    at_max = token_with(h.SECRET, lifetime=auth.MAX_LIFETIME_SECONDS, iat=issued)
    assert verify(at_max, h.SECRET) == AgentIdentity(
        "agent-1", "creator-1", issued, issued + 900, keys.key_id(h.SECRET)
    )
    with pytest.raises(TokenRejected) as caught:
        verify(token_with(h.SECRET, lifetime=auth.MAX_LIFETIME_SECONDS + 1, iat=issued), h.SECRET)
    assert caught.value.why == "lifetime over 15 minutes"


def test_verify_with_an_empty_or_unusable_key_is_a_misconfiguration():
    with pytest.raises(MisconfiguredSecret, match="^the JWT secret is empty$"):
        verify(token_with(h.SECRET), "")
    with pytest.raises(MisconfiguredSecret, match="^the JWT secret is unusable: "):
        verify(token_with(h.SECRET), "short")


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (lambda: None, "no token"),
        (lambda: "", "no token"),
        (lambda: token_with(h.SECRET, iat=int(time.time()) - 700), "ExpiredSignatureError"),
        (lambda: h.token(drop=("creatorId",)), "MissingRequiredClaimError"),
        (lambda: h.token(drop=("iat",)), "MissingRequiredClaimError"),
        (lambda: h.token(algorithm="HS512"), "InvalidAlgorithmError"),
        (lambda: h.token(key="another-key-" + "z" * 40), "InvalidSignatureError"),
        (lambda: h.token(agent="bad agent"), "agentId is not an id"),
        (lambda: h.token(creator="bad/creator"), "creatorId is not an id"),
    ],
)
def test_verify_refuses_and_says_why(make, why, frozen):
    with pytest.raises(TokenRejected) as caught:
        verify(make(), h.SECRET)
    assert caught.value.why == why


@pytest.mark.parametrize("claim", ["exp", "iat"])
def test_a_time_claim_that_is_a_numeric_string_is_refused(claim, frozen):
    # PyJWT itself accepts "1795872600" (it only needs int() to work); the verifier does not
    issued = frozen
    claims = {"agentId": "agent-1", "creatorId": "creator-1", "iat": issued, "exp": issued + 600}
    claims[claim] = str(claims[claim])
    with pytest.raises(TokenRejected) as caught:
        verify(jwt.encode(claims, h.SECRET, algorithm="HS256"), h.SECRET)
    assert caught.value.why == "exp/iat are not numbers"
