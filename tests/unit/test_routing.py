"""Routing derived from the catalog: severity picks page or ticket; paging unit alarms get a wrapper."""

from __future__ import annotations

from dataclasses import replace

from monitoring.catalog import ALARMS, ALARMS_BY_ID, COMPOSITE
from monitoring.routing import (
    MAINTENANCE,
    Route,
    page_wrapper,
    page_wrappers,
    pages_in_composite_mode,
    route,
    sends_alarm,
)
from monitoring.slo_catalog import SLO_COMPOSITES
from monitoring.spec import Missing, Severity


def test_severity_alone_picks_the_topic():
    assert route(COMPOSITE) is Route.PAGE  # CRITICAL
    assert route(ALARMS_BY_ID["Backlog"]) is Route.PAGE  # HIGH
    assert route(ALARMS_BY_ID["DispatcherThrottles"]) is Route.TICKET  # WARNING
    assert {c.id: route(c) for c in SLO_COMPOSITES} == {
        f"{slo}{alert}": Route.TICKET if alert == "SlowBurn" else Route.PAGE
        for slo in ("JobSuccess", "TimeToAssign", "ConnectSuccess")
        for alert in ("FastBurn", "SustainedBurn", "SlowBurn")
    }


def test_the_paging_composites_are_incident_and_the_slo_pages():
    paging = [c.id for c in (COMPOSITE, *SLO_COMPOSITES) if pages_in_composite_mode(c)]
    assert paging == [
        "Incident",
        "JobSuccessFastBurn",
        "JobSuccessSustainedBurn",
        "TimeToAssignFastBurn",
        "TimeToAssignSustainedBurn",
        "ConnectSuccessFastBurn",
        "ConnectSuccessSustainedBurn",
    ]


def test_a_unit_alarm_that_pages_in_composite_mode_pages_through_its_wrapper():
    # GIVEN the probe's alarm, a CRITICAL unit alarm that must page in composite mode
    probe = ALARMS_BY_ID["ProbeFailed"]
    # THEN its wrapper pages in composite mode only, and the unit alarm itself only in all mode
    wrapper = page_wrapper(probe)
    assert (wrapper.id, wrapper.rule, wrapper.severity, wrapper.section) == (
        "ProbeFailedPage",
        "ProbeFailed",
        Severity.CRITICAL,
        "P",
    )
    assert (sends_alarm(wrapper, "composite"), sends_alarm(wrapper, "all")) == (True, False)
    assert (sends_alarm(probe, "composite"), sends_alarm(probe, "all")) == (False, True)
    # every unit alarm that pages in composite mode has its wrapper, and no other does
    paging = [a.id for a in ALARMS if a.notify_composite and route(a) is Route.PAGE]
    assert [w.id for w in page_wrappers(ALARMS)] == [f"{i}Page" for i in paging]
    assert "ProbeFailed" in paging and "FleetDisconnected" in paging


def test_a_warning_alarm_that_notifies_in_composite_mode_tickets_directly():
    noisy = replace(ALARMS_BY_ID["HeartbeatDip"], notify_composite=True)
    assert not pages_in_composite_mode(noisy)
    assert sends_alarm(noisy, "composite")
    assert page_wrappers((noisy,)) == ()


def test_no_catalog_alarm_sends_twice():
    for spec in ALARMS:
        assert sends_alarm(spec, "all") == spec.notify_all
        assert not (sends_alarm(spec, "composite") and pages_in_composite_mode(spec))


def test_the_maintenance_window_keeps_the_state_it_is_set_to():
    assert MAINTENANCE.missing is Missing.IGNORE
    assert not (MAINTENANCE.notify_all or MAINTENANCE.notify_composite or MAINTENANCE.ok_action)
