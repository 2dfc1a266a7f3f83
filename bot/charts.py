"""PNG charts for P(Doom) results, drawn with matplotlib's object API (no pyplot, no global state).

These functions block for tens of milliseconds, so callers run them in a worker thread. matplotlib is
imported on first use: it costs ~0.4 s and ~20 MB, which the bot only pays once someone asks for a chart.

Text that members or admins typed (the question) is drawn with `parse_math=False`: otherwise matplotlib reads
`$…$` as mathtext, so "$1B … $100M" comes out as italic maths or makes drawing fail.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.domain.pdoom import THRESHOLD, Bin, RoundPoint, Summary, format_probability, logit

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

TICKS = (0.0001, 0.001, 0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999)
BAR_COLOUR = "#5865F2"
MEDIAN_COLOUR = "#ED4245"
THRESHOLD_COLOUR = "#747F8D"


def _figure() -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # imported late: see the module docstring
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 4.2), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _probability_axis(axes: Axes, axis: str) -> None:
    """Label a log-odds axis with probabilities."""
    positions = [logit(p) for p in TICKS]
    labels = [format_probability(p) for p in TICKS]
    if axis == "x":
        axes.set_xticks(positions, labels)
        axes.set_xlim(positions[0], positions[-1])
    else:
        axes.set_yticks(positions, labels)
        axes.set_ylim(positions[0], positions[-1])


def histogram_png(bins: Sequence[Bin], summary: Summary, title: str) -> bytes:
    """Draw answers per bin on a log-odds axis, with the median and the 10% line."""
    figure = _figure()
    axes = figure.add_subplot()
    for item in bins:
        left, right = logit(item.low), logit(item.high)
        axes.bar(left, item.count, width=right - left, align="edge", color=BAR_COLOUR, edgecolor="white")
    axes.axvline(
        logit(summary.median), color=MEDIAN_COLOUR, linewidth=2, label=f"median {format_probability(summary.median)}"
    )
    axes.axvline(logit(THRESHOLD), color=THRESHOLD_COLOUR, linestyle="--", linewidth=1, label="10%")
    _probability_axis(axes, "x")
    axes.set_ylabel("members")
    axes.set_xlabel("P(doom), log-odds scale (bins with fewer than 3 members are merged)")
    from matplotlib.ticker import MaxNLocator

    axes.set_title(title[:90], parse_math=False)
    axes.legend(loc="upper left", frameon=False)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    return _png(figure)


def history_png(points: Sequence[RoundPoint]) -> bytes:
    """Draw each published round's median with its middle half, and dashed lines for members who answered both."""
    shown = [(p, p.results.summary) for p in points if p.results.summary is not None]
    figure = _figure()
    axes = figure.add_subplot()
    xs = list(range(len(shown)))
    medians = [logit(s.median) for _, s in shown]
    lower = [medians[i] - logit(s.q1) for i, (_, s) in enumerate(shown)]
    upper = [logit(s.q3) - medians[i] for i, (_, s) in enumerate(shown)]
    axes.errorbar(xs, medians, yerr=[lower, upper], fmt="o-", color=BAR_COLOUR, capsize=4, label="median (middle half)")
    labelled = False
    for index, (point, _) in enumerate(shown):
        # A pair needs enough members in both rounds, so the round before it is the one drawn just before it.
        if point.same_respondents is not None and index > 0:
            before, after = point.same_respondents
            axes.plot(
                [index - 1, index],
                [logit(before), logit(after)],
                linestyle="--",
                color=MEDIAN_COLOUR,
                label=None if labelled else "same respondents (median)",
            )
            labelled = True
    axes.axhline(logit(THRESHOLD), color=THRESHOLD_COLOUR, linestyle=":", linewidth=1)
    _probability_axis(axes, "y")
    axes.set_xticks(xs, [f"#{p.number}\n{p.label}\nn={s.n}" for p, s in shown])
    axes.set_title("Community P(doom) across rounds")
    axes.legend(loc="upper left", frameon=False)
    return _png(figure)
