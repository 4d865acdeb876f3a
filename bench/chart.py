"""The README's chart, drawn as SVG by hand (no plotting library): requests per second on a
log scale against the number of comments on the essay, one line per page of ours and one for
the hello world served the same way."""

import math
from html import escape

WIDTH, HEIGHT = 820, 420
LEFT, RIGHT, TOP, BOTTOM = 72, 270, 56, 56
INSET = 28  # keeps the first and last points off the plot's edges
HELLO = "hello world"
# Colours that stay apart for the colour-blind (Okabe and Ito), and dashes for greyscale.
STYLES = {
    HELLO: ("#555555", "6 4"),
    "essay, anonymous": ("#0072b2", ""),
    "essay, signed in": ("#d55e00", ""),
    "busiest paragraph, anonymous": ("#009e73", "2 3"),
}


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 1 else f"{value:.1g}"


def reading_chart(results: dict) -> str:
    """The SVG of `results["reading"]` (bench/run.py's rows: page, comments, our and hello
    medians)."""
    rows = results["reading"]
    sizes = sorted({row["comments"] for row in rows})
    series: dict[str, dict[int, float]] = {}
    for row in rows:
        series.setdefault(row["page"], {})[row["comments"]] = row["our_rps"]
    series[HELLO] = {row["comments"]: row["hello_rps"] for row in rows}
    values = [value for points in series.values() for value in points.values() if value > 0]
    low = math.floor(math.log10(min(values)))
    high = math.ceil(math.log10(max(values)))
    high += high == low
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(size: int) -> float:
        if len(sizes) == 1:
            return LEFT + plot_width / 2
        return LEFT + INSET + (plot_width - 2 * INSET) * sizes.index(size) / (len(sizes) - 1)

    def y(value: float) -> float:
        return TOP + plot_height * (high - math.log10(value)) / (high - low)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="system-ui, sans-serif" font-size="13">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        f'<text x="{LEFT}" y="24" font-size="16" font-weight="600" fill="#111111">'
        "Requests per second against comments on the essay</text>",
        f'<text x="{LEFT}" y="42" fill="#555555">{escape(results["caption"])}</text>',
    ]
    for power in range(low, high + 1):
        for step in (1, 2, 5):
            value = step * 10**power
            if power == high and step > 1:
                break
            major = step == 1
            parts.append(
                f'<line x1="{LEFT}" x2="{LEFT + plot_width}" y1="{y(value):.1f}" '
                f'y2="{y(value):.1f}" stroke="{"#cccccc" if major else "#eeeeee"}"/>'
            )
            if major:
                parts.append(
                    f'<text x="{LEFT - 8}" y="{y(value) + 4:.1f}" text-anchor="end" '
                    f'fill="#333333">{_number(value)}</text>'
                )
    for size in sizes:
        parts.append(
            f'<text x="{x(size):.1f}" y="{TOP + plot_height + 20}" text-anchor="middle" '
            f'fill="#333333">{size:,}</text>'
        )
    parts.append(
        f'<text x="{LEFT + plot_width / 2:.1f}" y="{HEIGHT - 12}" text-anchor="middle" '
        'fill="#333333">comments on the essay</text>'
    )
    parts.append(
        f'<text transform="translate(18 {TOP + plot_height / 2:.1f}) rotate(-90)" '
        'text-anchor="middle" fill="#333333">requests per second (log scale)</text>'
    )
    for number, (name, points) in enumerate(series.items()):
        colour, dashes = STYLES.get(name, ("#cc79a7", ""))
        coordinates = [(x(size), y(points[size])) for size in sizes if points.get(size, 0) > 0]
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in coordinates)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5" '
            f'stroke-dasharray="{dashes or "none"}"/>'
        )
        parts.extend(
            f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3.5" fill="{colour}"/>'
            for px, py in coordinates
        )
        legend_y = TOP + 10 + number * 24
        legend_x = LEFT + plot_width + 16
        parts.append(
            f'<line x1="{legend_x}" x2="{legend_x + 26}" y1="{legend_y}" y2="{legend_y}" '
            f'stroke="{colour}" stroke-width="2.5" stroke-dasharray="{dashes or "none"}"/>'
        )
        parts.append(
            f'<text x="{legend_x + 34}" y="{legend_y + 4}" fill="#111111">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
