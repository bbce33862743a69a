"""A question's bar chart on the results page: an SVG drawn from the figures the page's table shows.

Drawn as text in microseconds, in the page itself (a `data:` picture), so the page needs no
second trip for its pictures and never holds the event loop, which it shares with the bot, for
a plotting library. The chat's /results keeps its PNG (`conversations.results.chart_png`):
Telegram shows pictures, not SVG. Both draw the same counts, from the same tally and labels.
"""

from __future__ import annotations

import base64
from html import escape

from conversations.results import QuestionResults
from conversations.screens import shorten

WIDTH = 480  # drawn at about the size the page shows it, so its text reads as the page's does
ROW = 28  # height of one answer's bar and label
TOP = 60  # the chart's title and the question above the bars
LABELS = 170  # width kept for the answers' labels beside the bars
BARS = 240  # the longest bar
BLUE = "#005eb8"
INK = "#0b0c0c"


def chart_svg(question: QuestionResults, title: str, numbers: list[str], rtl: bool = False) -> str:
    """A horizontal bar per answer of `question`, with its count (`numbers`, as the page writes them),
    under `title` (what the chart is of, when, and how many responses); mirrored for right-to-left."""
    counts = [a.count for a in question.answers]
    most = max(counts, default=0) or 1
    height = TOP + ROW * len(counts) + 12
    axis = WIDTH - LABELS - 10 if rtl else LABELS + 10
    direction = ' direction="rtl"' if rtl else ""
    edge = WIDTH - 10 if rtl else 10

    def text(x: float, y: float, content: str, anchor: str = "start", extra: str = "") -> str:
        return f'<text x="{x:.0f}" y="{y:.0f}" text-anchor="{anchor}"{direction}{extra}>{escape(content)}</text>'

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}"'
        f' font-family="Arial, Helvetica, sans-serif" font-size="14" fill="{INK}">',
        f'<rect width="{WIDTH}" height="{height}" fill="#fff"/>',
        text(edge, 22, shorten(title, 60), extra=' font-weight="bold"'),
        text(edge, 44, shorten(f"{question.number}. {question.text}", 60)),
        f'<line x1="{axis}" y1="{TOP - 4}" x2="{axis}" y2="{height - 8}" stroke="{INK}"/>',
    ]
    for row, (answer, number) in enumerate(zip(question.answers, numbers, strict=True)):
        y = TOP + ROW * row
        length = BARS * answer.count / most
        bar_x = axis - length if rtl else axis
        label_x = axis + 8 if rtl else axis - 8
        count_x = axis - length - 6 if rtl else axis + length + 6
        parts += [
            text(label_x, y + 19, shorten(answer.label, 22), anchor="end"),
            f'<rect x="{bar_x:.1f}" y="{y + 4}" width="{length:.1f}" height="{ROW - 8}" fill="{BLUE}"/>',
            text(count_x, y + 19, number),
        ]
    parts.append("</svg>")
    return "".join(parts)


def chart_picture(question: QuestionResults, title: str, numbers: list[str], rtl: bool = False) -> str:
    """The chart as a `data:` address for an <img> (the page's content security policy allows them)."""
    svg = chart_svg(question, title, numbers, rtl)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
