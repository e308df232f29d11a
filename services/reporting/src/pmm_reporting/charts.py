"""Charts as SVG or PNG, drawn with matplotlib's Agg backend from released figures
only (benchmark cells that are not suppressed, values the reader may see)."""

import io
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

# matplotlib writes a cache on import: keep it out of the user's home.
os.environ.setdefault("MPLCONFIGDIR", tempfile.mkdtemp(prefix="pmm-matplotlib-"))

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure

from pmm_reporting.schemas import CellOut

ChartFormat = Literal["svg", "png"]
MEDIA_TYPES = {"svg": "image/svg+xml", "png": "image/png"}


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal
    highlighted: bool = False


def distribution_by_region(
    kpi: str, unit: str, cells: Sequence[CellOut], chart_format: ChartFormat
) -> bytes:
    """A box per WCO region from its quartiles, minimum and maximum, for the regions
    whose figures the reader gets."""
    shown = [c for c in cells if c.grouping == "wco_region" and _released(c)]
    figure = Figure(figsize=(8, 4.5))
    axes = figure.subplots()
    if shown:
        axes.bxp(
            [
                {
                    "label": f"{c.group}\n(n={c.n})",
                    "whislo": float(c.minimum or 0),
                    "q1": float(c.q1 or 0),
                    "med": float(c.median or 0),
                    "q3": float(c.q3 or 0),
                    "whishi": float(c.maximum or 0),
                    "fliers": [],
                }
                for c in shown
            ],
            showfliers=False,
        )
    else:
        axes.text(0.5, 0.5, "no region can be shown", ha="center")
    # A region left out is suppressed, or its quartiles are withheld from the reader.
    hidden = len([c for c in cells if c.grouping == "wco_region"]) - len(shown)
    axes.set_title(
        f"{kpi} by WCO region" + (f" ({hidden} not shown)" if hidden else "")
    )
    axes.set_ylabel(unit)
    return _render(figure, chart_format)


def member_against_peers(
    title: str, unit: str, bars: Sequence[Bar], chart_format: ChartFormat
) -> bytes:
    figure = Figure(figsize=(7, 4))
    axes = figure.subplots()
    labels = [bar.label for bar in bars]
    heights = [float(bar.value) for bar in bars]
    colours = ["#c0392b" if bar.highlighted else "#7f8c8d" for bar in bars]
    bars_drawn = axes.bar(labels, heights, color=colours)
    # Each bar says its figure as released, so the chart can be read without a ruler.
    axes.bar_label(bars_drawn, labels=[str(bar.value) for bar in bars], fontsize=8)
    axes.set_title(title)
    axes.set_ylabel(unit)
    axes.tick_params(axis="x", labelrotation=20)
    figure.tight_layout()
    return _render(figure, chart_format)


def _released(cell: CellOut) -> bool:
    return not cell.suppressed and cell.median is not None


def _render(figure: Figure, chart_format: ChartFormat) -> bytes:
    buffer = io.BytesIO()
    if chart_format == "svg":
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    else:
        figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return buffer.getvalue()
