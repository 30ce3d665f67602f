"""Charts as inline SVG, drawn on the server so that the page, the printed PDF and the archived report show the
same picture without a script library: the Levey–Jennings chart of a control, the z-score bar chart of a PT
round and the Youden plot of a pair of items. Pure Python."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT, PAD = 640, 260, 40
BAND_COLOURS = {2: "#d9a400", 3: "#c0392b"}


@dataclass(frozen=True)
class Point:
    label: str
    value: float  # in standard deviations (z)
    flagged: bool = False
    highlight: bool = False


def _frame(body: list[str], title: str, width: int = WIDTH, height: int = HEIGHT) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
            f'class="chart" aria-label="{escape(title)}"><title>{escape(title)}</title>' + "".join(body) + "</svg>")


def _y(z: float, limit: float) -> float:
    z = max(-limit, min(limit, z))
    return PAD / 2 + (limit - z) / (2 * limit) * (HEIGHT - PAD)


def _bands(limit: float, labels: bool = True, scores: bool = False) -> list[str]:
    """The centre line and the ±1, ±2, ±3 lines. A control chart labels them x̄ and ±ks; a chart of scores
    (z, ζ, En) labels them with the score itself (0, ±1, …), its centre being the assigned value, not a mean.

    x̄ is drawn as an x under a line: the combining macron (U+0304) is missing from the CJK fonts WeasyPrint
    uses for the PDFs, which print it as x and a dotted circle."""
    out = []
    for z in (-3, -2, -1, 0, 1, 2, 3):
        colour = BAND_COLOURS.get(abs(z), "#999")
        dash = "" if z == 0 else ' stroke-dasharray="4 3"'
        y = _y(z, limit)
        out.append(f'<line x1="{PAD}" y1="{y:.1f}" x2="{WIDTH - 8}" y2="{y:.1f}" stroke="{colour}"{dash}/>')
        if not labels:
            continue
        if scores:
            text = "0" if z == 0 else f"{z:+d}".replace("-", "−")
        elif z == 0:
            out.append(f'<line x1="{PAD - 11}" y1="{y - 5:.1f}" x2="{PAD - 4}" y2="{y - 5:.1f}" stroke="#111" '
                       f'stroke-width="1" class="overline"/>')
            text = "x"
        else:
            text = f"{z:+d}s".replace("-", "−")
        out.append(f'<text x="{PAD - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{text}</text>')
    return out


def levey_jennings(points: Sequence[Point], title: str) -> str:
    """Control results in standard deviations from the target, one per run, in order."""
    limit = max(4.0, *(abs(p.value) + 0.5 for p in points)) if points else 4.0
    body = _bands(limit)
    step = (WIDTH - PAD - 16) / max(1, len(points) - 1) if len(points) > 1 else 0
    xs = [PAD + 8 + i * step for i in range(len(points))]
    if len(points) > 1:
        path = " ".join(f"{x:.1f},{_y(p.value, limit):.1f}" for x, p in zip(xs, points, strict=True))
        body.append(f'<polyline points="{path}" fill="none" stroke="#2c6fbb"/>')
    for x, p in zip(xs, points, strict=True):
        colour = "#c0392b" if p.flagged else "#2c6fbb"
        body.append(f'<circle cx="{x:.1f}" cy="{_y(p.value, limit):.1f}" r="{5 if p.highlight else 3.5}" '
                    f'fill="{colour}"><title>{escape(p.label)}: {p.value:+.2f}s</title></circle>')
    return _frame(body, title)


def z_bars(points: Sequence[Point], title: str, symbol: str = "z") -> str:
    """One bar per participant, sorted by score, with the ±2 (warning) and ±3 (action) lines. A bar is
    coloured by its verdict (ISO 13528 9.4–9.7): for En, |En| > 1 is unsatisfactory and there is no
    questionable band."""
    ordered = sorted(points, key=lambda p: p.value)
    limit = max(4.0, *(min(abs(p.value), 10) + 0.5 for p in ordered)) if ordered else 4.0
    body = _bands(limit, scores=True)
    width = (WIDTH - PAD - 16) / max(1, len(ordered))
    zero = _y(0, limit)
    for i, p in enumerate(ordered):
        top = _y(p.value, limit)
        size = abs(p.value)
        bad, doubtful = (size > 1, False) if symbol == "En" else (size >= 3, size > 2)
        colour = "#c0392b" if bad else "#d9a400" if doubtful else "#2c6fbb"
        if p.highlight:
            colour = "#111"
        body.append(f'<rect x="{PAD + 8 + i * width:.1f}" y="{min(top, zero):.1f}" width="{max(width - 1, 0.5):.1f}" '
                    f'height="{abs(zero - top):.1f}" fill="{colour}"><title>{escape(p.label)}: {escape(symbol)} = '
                    f'{p.value:.2f}</title></rect>')
    return _frame(body, title)


def youden(pairs: Sequence[tuple[str, float, float, bool]], title: str, label_a: str, label_b: str) -> str:
    """Youden plot of two items' z-scores: systematic errors lie along the diagonal, random ones across it."""
    size = 320
    limit = max(4.0, *(max(abs(a), abs(b)) + 0.5 for _, a, b, _ in pairs)) if pairs else 4.0
    limit = min(limit, 10.0)

    def pos(z: float) -> float:
        z = max(-limit, min(limit, z))
        return PAD / 2 + (z + limit) / (2 * limit) * (size - PAD)

    body = []
    for z, colour in ((2, BAND_COLOURS[2]), (3, BAND_COLOURS[3])):
        lo, hi = pos(-z), pos(z)
        body.append(f'<rect x="{lo:.1f}" y="{lo:.1f}" width="{hi - lo:.1f}" height="{hi - lo:.1f}" fill="none" '
                    f'stroke="{colour}" stroke-dasharray="4 3"/>')
    mid = pos(0)
    body.append(f'<line x1="{pos(-limit):.1f}" y1="{mid:.1f}" x2="{pos(limit):.1f}" y2="{mid:.1f}" stroke="#999"/>')
    body.append(f'<line x1="{mid:.1f}" y1="{pos(-limit):.1f}" x2="{mid:.1f}" y2="{pos(limit):.1f}" stroke="#999"/>')
    body.append(f'<line x1="{pos(-limit):.1f}" y1="{pos(limit):.1f}" x2="{pos(limit):.1f}" y2="{pos(-limit):.1f}" '
                f'stroke="#bbb"/>')
    for label, a, b, highlight in pairs:
        body.append(f'<circle cx="{pos(a):.1f}" cy="{size - pos(b):.1f}" r="{5 if highlight else 3.5}" '
                    f'fill="{"#111" if highlight else "#2c6fbb"}"><title>{escape(label)}: {a:.2f}, {b:.2f}</title>'
                    f'</circle>')
    body.append(f'<text x="{size / 2:.0f}" y="{size - 4}" text-anchor="middle" font-size="11">z {escape(label_a)}'
                f'</text>')
    body.append(f'<text x="10" y="{size / 2:.0f}" font-size="11" transform="rotate(-90 10 {size / 2:.0f})" '
                f'text-anchor="middle">z {escape(label_b)}</text>')
    return _frame(body, title, size, size)
