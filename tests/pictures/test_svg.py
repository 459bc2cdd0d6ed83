"""SVG charts: exact coordinates for lines, threshold, shaded ALARM periods and markers."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from monitoring.pictures.svg import BOTTOM, LEFT, RIGHT, TOP, Chart, Line, alarm_bands, nice_ticks, render

NS = {"s": "http://www.w3.org/2000/svg"}


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # well-formed XML or it raises


def test_nice_ticks_cover_the_range_with_round_steps():
    assert nice_ticks(0, 10) == [0, 2, 4, 6, 8, 10]
    assert nice_ticks(0, 11) == [0, 5, 10, 15]
    assert nice_ticks(-3, 2.1, 6) == [-3, -2, -1, 0, 1, 2, 3]
    assert nice_ticks(5, 5) == [5, 5.2, 5.4, 5.6, 5.8, 6]  # empty range: one unit wide


def test_alarm_bands_pair_alarm_and_the_next_other_state_and_close_at_the_end():
    assert alarm_bands([(1, "ALARM"), (3, "OK"), (5, "ALARM")], 9) == [(1, 3), (5, 9)]
    assert alarm_bands([(1, "OK"), (2, "INSUFFICIENT_DATA")], 9) == []
    assert alarm_bands([(1, "ALARM"), (2, "ALARM"), (4, "INSUFFICIENT_DATA")], 9) == [(1, 4)]


def test_chart_draws_series_threshold_bands_and_markers_at_their_coordinates():
    chart = Chart(
        "DLQ <visible>",
        [Line("depth", [(0, 0), (5, 10), (10, None), (15, 5), (20, 0)])],
        threshold=5,
        bands=[(5, 15)],
        markers=[(0, "fault")],
        width=260,
        height=160,
    )
    root = parse(render(chart))
    assert root.find("s:title", NS).text == "DLQ <visible>"  # escaped in the source, whole in the XML
    plot_w, plot_h = 260 - RIGHT - LEFT, 160 - BOTTOM - TOP
    # x 0..20 -> LEFT..260-RIGHT; y ticks 0..10 -> bottom..top
    (threshold,) = root.findall("s:line[@class='threshold']", NS)
    assert float(threshold.get("y1")) == round(160 - BOTTOM - plot_h / 2, 1)
    (band,) = root.findall("s:rect[@class='band']", NS)
    assert float(band.get("x")) == round(LEFT + plot_w / 4, 1)
    assert float(band.get("width")) == round(plot_w / 2, 1)
    # the missing value splits the series in two lines
    first, second = root.findall("s:polyline[@class='series']", NS)
    assert first.get("points") == f"{LEFT}.0,{160 - BOTTOM}.0 {round(LEFT + plot_w / 4, 1)},{TOP}.0"
    assert len(second.get("points").split()) == 2
    (marker,) = root.findall("s:line[@class='marker']", NS)
    assert float(marker.get("x1")) == LEFT
    legend = [t.text for t in root.findall("s:text", NS)]
    assert {"depth", "threshold 5", "ALARM", "fault"} <= set(legend)


def test_chart_without_data_still_draws_axes_and_no_series():
    root = parse(render(Chart("empty", [Line("nothing", [])])))
    assert root.findall("s:polyline", NS) == [] and root.findall("s:circle", NS) == []
    assert root.findall("s:rect[@class='band']", NS) == []
    assert [t.text for t in root.findall("s:text", NS)][:2] == ["empty", "0"]


def test_a_lone_point_between_gaps_is_a_dot():
    root = parse(render(Chart("dot", [Line("x", [(0, None), (1, 3), (2, None)])])))
    assert len(root.findall("s:circle", NS)) == 1 and root.findall("s:polyline", NS) == []


def test_points_outside_the_x_range_are_not_drawn():
    chart = Chart("clip", [Line("x", [(-1, 1), (0, 1), (5, 2), (10, 3), (11, 9)])], x_range=(0, 10))
    (line,) = parse(render(chart)).findall("s:polyline[@class='series']", NS)
    assert len(line.get("points").split()) == 3
