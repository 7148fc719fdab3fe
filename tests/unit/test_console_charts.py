"""The 统计 page's inline SVG bar charts: well-formed, named and described, bars as long as
their values, every label escaped, a chart without data saying so."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from hypothesis import given
from hypothesis import strategies as st

from casestream.api.console_charts import (
    Bar,
    Chart,
    bar_length,
    column_chart,
    count_scale,
    horizontal_bar_chart,
)

SVG_NS = "{http://www.w3.org/2000/svg}"


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def drawn_bars(root: ET.Element) -> list[ET.Element]:
    return [rect for rect in root.iter(f"{SVG_NS}rect") if rect.get("class") == "bar"]


def rate_chart(*bars: Bar) -> Chart:
    return Chart("chart-loss", "各部门败诉率", "各部门的败诉率", bars, scale=1.0)


def test_a_horizontal_chart_is_an_image_named_by_its_title_and_described() -> None:
    root = parsed(horizontal_bar_chart(rate_chart(Bar("治安大队", 0.5, "50.0%"))))
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "chart-loss-title chart-loss-desc"
    title, desc = root.find(f"{SVG_NS}title"), root.find(f"{SVG_NS}desc")
    assert (
        title is not None and title.text == "各部门败诉率" and title.get("id") == "chart-loss-title"
    )
    assert (
        desc is not None and desc.text == "各部门的败诉率" and desc.get("id") == "chart-loss-desc"
    )
    assert "style" not in horizontal_bar_chart(rate_chart(Bar("治安大队", 0.5, "50.0%")))


def test_horizontal_bars_are_as_long_as_their_rates_and_print_their_values() -> None:
    chart = rate_chart(Bar("甲", 1.0, "100.0%"), Bar("乙", 0.25, "25.0%"), Bar("丙", 0.0, "0.0%"))
    root = parsed(horizontal_bar_chart(chart, full=320))
    widths = [float(rect.get("width", "")) for rect in drawn_bars(root)]
    assert widths == [320.0, 80.0, 0.0]
    values = [text.text for text in root.iter(f"{SVG_NS}text") if text.get("class") == "value"]
    assert values == ["100.0%", "25.0%", "0.0%"]


def test_a_rate_without_a_denominator_draws_no_bar_but_prints_a_dash() -> None:
    root = parsed(horizontal_bar_chart(rate_chart(Bar("甲", None, "—"), Bar("乙", 0.5, "50.0%"))))
    assert len(drawn_bars(root)) == 1
    texts = [text.text for text in root.iter(f"{SVG_NS}text")]
    assert "—" in texts and "甲" in texts


def test_columns_are_as_tall_as_their_counts_on_one_baseline() -> None:
    counts = [4, 2, 0, 1]
    chart = Chart(
        "chart-received",
        "每月收案数",
        "每月收到的案件数",
        tuple(Bar(f"2026-0{n + 1}", count, str(count)) for n, count in enumerate(counts)),
        scale=count_scale(counts),
    )
    root = parsed(column_chart(chart, full=160))
    rects = drawn_bars(root)
    heights = [float(rect.get("height", "")) for rect in rects]
    assert heights == [160.0, 80.0, 0.0, 40.0]
    bottoms = {float(rect.get("y", "")) + float(rect.get("height", "")) for rect in rects}
    assert len(bottoms) == 1  # every column stands on the baseline
    xs = [float(rect.get("x", "")) for rect in rects]
    assert xs == sorted(xs)  # left to right, in the order given


def test_labels_and_values_are_escaped() -> None:
    hostile = '<script>alert("x")</script>&'
    chart = Chart(
        'id"><x',
        f"标题{hostile}",
        f"说明{hostile}",
        (Bar(hostile, 0.5, hostile),),
        scale=1.0,
    )
    for draw in (horizontal_bar_chart, column_chart):
        svg = str(draw(chart))
        assert "<script>" not in svg and '"><x' not in svg
        root = parsed(svg)  # well-formed: nothing broke out of its element or attribute
        title = root.find(f"{SVG_NS}title")
        assert title is not None and title.text == f"标题{hostile}"


def test_a_chart_without_data_says_so_and_draws_no_bar() -> None:
    empty = Chart("chart-empty", "各部门纠错率", "本期无数据", (), scale=1.0)
    for draw in (horizontal_bar_chart, column_chart):
        root = parsed(str(draw(empty)))
        assert root.get("role") == "img" and not drawn_bars(root)
        assert "无数据" in [text.text for text in root.iter(f"{SVG_NS}text")]


def test_a_long_label_is_cut_on_the_chart_and_whole_in_its_bar_tooltip() -> None:
    name = "某某市公安局某某分局治安管理大队"
    root = parsed(horizontal_bar_chart(rate_chart(Bar(name, 0.5, "50.0%"))))
    texts = [text.text or "" for text in root.iter(f"{SVG_NS}text")]
    assert name not in texts and any(text.endswith("…") for text in texts)
    tooltip = drawn_bars(root)[0].find(f"{SVG_NS}title")
    assert tooltip is not None and tooltip.text == f"{name}：50.0%"


def test_counts_are_scaled_to_the_largest_and_an_all_zero_chart_to_one() -> None:
    assert count_scale([3, 7, 1]) == 7
    assert count_scale([0, 0]) == 1 and count_scale([]) == 1


@given(
    st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=30),
    st.floats(min_value=10, max_value=1000),
)
def test_bar_lengths_are_proportional_to_the_values(values: list[int], full: float) -> None:
    scale = count_scale(values)
    lengths = [bar_length(value, scale, full) for value in values]
    assert max(lengths) == round(full, 1) or max(values) == 0
    for value, length in zip(values, lengths, strict=True):
        assert abs(length - full * value / scale) <= 0.05 + 1e-9
        assert 0 <= length <= full + 0.05
