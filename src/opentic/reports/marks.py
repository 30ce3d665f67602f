"""The marks a report carries, drawn as SVG (no network, no image files): the 检验检测专用章 for an
institution that has not uploaded its own, and the CMA mark.

The seal is drawn as the public-security pattern of Chinese official seals (GA 241 style): a red ring, a
five-pointed star in the centre, the institution's name along the upper arc, read left to right, and
"检验检测专用章" straight across under the star. The CMA mark is the three letters in the mark's heavy,
joined style, which the template prints with the certificate number under it.
"""

from __future__ import annotations

import base64
import math
from html import escape

RED = "#d3151b"
FONT = "Noto Sans CJK SC, Noto Serif CJK SC, sans-serif"


def data_uri(svg: str) -> str:
    return f"data:image/svg+xml;base64,{base64.b64encode(svg.encode()).decode()}"


def _star(cx: float, cy: float, outer: float) -> str:
    inner = outer * 0.382  # the regular pentagram's ratio
    points = []
    for i in range(10):
        radius = outer if i % 2 == 0 else inner
        angle = math.radians(-90 + 36 * i)
        points.append(f"{cx + radius * math.cos(angle):.2f},{cy + radius * math.sin(angle):.2f}")
    return f'<polygon points="{" ".join(points)}" fill="{RED}"/>'


def seal_svg(name: str, size: float = 200) -> str:
    """A round seal of `size` user units: ring, star, `name` along the upper arc, 检验检测专用章 across."""
    c = size / 2
    ring = size * 0.02
    chars = list(name.strip()) or ["·"]
    # The name spans up to 240° of the upper arc; long names get smaller characters, as engravers cut them.
    span = min(240.0, 18.0 * len(chars) + 60)
    font = min(size * 0.13, (math.radians(span) * c * 0.74) / max(len(chars), 1) * 0.95)
    radius = c - ring * 2 - font * 0.62
    glyphs = []
    for i, ch in enumerate(chars):
        angle = -span / 2 + span * (i + 0.5) / len(chars)
        x = c + radius * math.sin(math.radians(angle))
        y = c - radius * math.cos(math.radians(angle))
        glyphs.append(f'<text x="{x:.2f}" y="{y:.2f}" transform="rotate({angle:.2f} {x:.2f} {y:.2f})" '
                      f'font-size="{font:.2f}" text-anchor="middle" dominant-baseline="central">{escape(ch)}</text>')
    label = size * 0.085
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {size} {size}">'
        f'<circle cx="{c}" cy="{c}" r="{c - ring}" fill="none" stroke="{RED}" stroke-width="{ring * 1.6:.2f}"/>'
        f'<g fill="{RED}" font-family="{FONT}" font-weight="bold">{"".join(glyphs)}'
        f'<text x="{c}" y="{c + size * 0.27:.2f}" font-size="{label:.2f}" text-anchor="middle" '
        f'dominant-baseline="central">检验检测专用章</text></g>'
        f'{_star(c, c, size * 0.16)}</svg>'
    )


def cma_svg(colour: str = RED) -> str:
    """The CMA mark: C, M and A in heavy strokes, the M's middle legs meeting low, the A without a bar but
    with a foot, under one baseline, as printed at the top left of an accredited report."""
    w = 10  # stroke width
    c_arc = f'<path d="M 52 14 A 30 30 0 1 0 52 66" fill="none" stroke="{colour}" stroke-width="{w}" ' \
            f'stroke-linecap="butt"/>'
    m = f'<path d="M 62 70 L 62 12 L 84 52 L 106 12 L 106 70" fill="none" stroke="{colour}" ' \
        f'stroke-width="{w}" stroke-linejoin="miter"/>'
    a = f'<path d="M 114 70 L 134 12 L 154 70 M 122 50 L 146 50" fill="none" stroke="{colour}" ' \
        f'stroke-width="{w}" stroke-linejoin="miter"/>'
    rule = f'<rect x="8" y="76" width="146" height="4" fill="{colour}"/>'
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="162" height="84" viewBox="0 0 162 84">'
            f'{c_arc}{m}{a}{rule}</svg>')
