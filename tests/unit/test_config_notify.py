"""NOTIFY_OFFLINE_SECONDS: a per-stage setting, context over env over the 10-minute default, 60-86400."""

from __future__ import annotations

import pytest

from contract.config import Config, ConfigError


def from_sources(context=None, environ=None):
    context = context or {}
    return Config.from_sources(context.get, environ or {})


def test_default_is_ten_minutes_and_context_beats_env():
    assert from_sources().notify_offline_seconds == 600
    assert from_sources(environ={"NOTIFY_OFFLINE_SECONDS": "900"}).notify_offline_seconds == 900
    both = from_sources({"notifyOfflineSeconds": 1200}, {"NOTIFY_OFFLINE_SECONDS": "900"})
    assert both.notify_offline_seconds == 1200


@pytest.mark.parametrize(("raw", "ok"), [("59", False), ("60", True), ("86400", True), ("86401", False)])
def test_bounds(raw, ok):
    if ok:
        assert from_sources(environ={"NOTIFY_OFFLINE_SECONDS": raw}).notify_offline_seconds == int(raw)
    else:
        with pytest.raises(ConfigError) as err:
            from_sources(environ={"NOTIFY_OFFLINE_SECONDS": raw})
        assert (
            str(err.value)
            == f"invalid NOTIFY_OFFLINE_SECONDS {int(raw)!r}: allowed values are 60-86400 (seconds)"
        )


@pytest.mark.parametrize("raw", ["10m", "-5", "6.5", " "])
def test_not_a_number_is_one_line(raw):
    with pytest.raises(ConfigError) as err:
        from_sources(environ={"NOTIFY_OFFLINE_SECONDS": raw})
    assert str(err.value).startswith("invalid NOTIFY_OFFLINE_SECONDS")
    assert str(err.value).endswith("allowed values are 60-86400 (seconds)")
    assert "\n" not in str(err.value)


def test_a_config_built_in_code_is_checked_too():
    with pytest.raises(ConfigError, match="allowed values are 60-86400"):
        Config(notify_offline_seconds=0)
