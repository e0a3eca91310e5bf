"""Charts as SVG, rendered on the server with pygal; each page shows the same numbers as a table.

Rules: no JavaScript in or around a chart (``js=[]``: pygal's tooltips would load a script from
the internet), and pygal's inline config script is cut out too (a chart needs none); the SVG
is served as an image (``<img>``), so the page's CSP needs no inline style; labels are ids,
domain names and numbers, never a person's answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pygal
from pygal.style import Style

_STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#1f2933",
    foreground_strong="#1f2933",
    foreground_subtle="#52606d",
    colors=("#0b6e4f", "#f4a259", "#3d5a80", "#9c6644"),
    font_family="sans-serif",
)


def _config(chart: pygal.graph.graph.Graph) -> None:
    chart.js = []
    chart.disable_xml_declaration = False
    chart.legend_at_bottom = True
    chart.no_data_text = "Nog geen gegevens"


def bars(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    maximum: float | None = None,
    horizontal: bool = False,
) -> bytes:
    kind = pygal.HorizontalBar if horizontal else pygal.Bar
    chart = kind(
        style=_STYLE,
        width=640,
        height=360,
        show_legend=len(series) > 1,
        print_values=False,
        range=(0, maximum) if maximum else None,
        x_label_rotation=30 if not horizontal and len(labels) > 6 else 0,
    )
    _config(chart)
    chart.title = title
    chart.x_labels = list(labels)
    for name, values in series:
        chart.add(name, list(values))
    svg = chart.render()
    assert isinstance(svg, bytes)
    return _SCRIPT.sub(b"", svg)


_SCRIPT = re.compile(rb"<script\b.*?</script>", re.S)
