"""Score charts drawn on the server: the numbers become SVG coordinates
here and a template writes the elements (escaped like any page), so the
chart needs no JavaScript, no library and no internet. Each chart has a
table beside it with the same points, for screen readers and for print."""

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from eligibility.questionnaires import GAD7, PHQ9, Questionnaire

from .selectors import ScoreRow

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 36, 140, 12, 34
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
# Remission: under 5 on both scales (the "minimal" band).
REMISSION_BELOW = 5
# Response: a drop of half the baseline score or more.
RESPONSE_DROP = 0.5

BAND_FILLS = {
    "minimal": "#e3f1e4",
    "mild": "#fbf3d5",
    "moderate": "#fde2c4",
    "moderately_severe": "#f9cdb8",
    "severe": "#f4b9b9",
}


@dataclass(frozen=True)
class BandRect:
    y: float
    height: float
    label: str
    fill: str
    label_y: float


@dataclass(frozen=True)
class ChartPoint:
    at: datetime
    date: str
    score: int
    band: str
    source: str
    x: float
    y: float
    is_baseline: bool
    response: bool
    remission: bool

    @property
    def box_x(self) -> float:
        return round(self.x - 7, 1)

    @property
    def box_y(self) -> float:
        return round(self.y - 7, 1)


@dataclass
class Chart:
    code: str
    title: str
    max_score: int
    bands: list[BandRect]
    points: list[ChartPoint]
    clinician: bool
    polyline: str = ""
    ticks: list[tuple[float, str]] = field(default_factory=list)
    y_ticks: list[tuple[float, int]] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    plot_left: int = LEFT
    plot_width: int = PLOT_W
    y_label_x: int = LEFT - 6
    x_label_y: int = TOP + PLOT_H + 18
    plot_right: int = LEFT + PLOT_W
    plot_bottom: int = TOP + PLOT_H
    band_label_x: int = LEFT + PLOT_W + 8

    @property
    def latest(self) -> ChartPoint | None:
        return self.points[-1] if self.points else None


def _source_label(row: ScoreRow) -> str:
    if row.source == "baseline":
        return _("Screening (baseline)")
    if row.source == "before_dosing":
        return _("Before a dosing session")
    if row.source == "follow_up":
        return _("Follow-up, %(days)s days after the series") % {"days": row.follow_up_days}
    return _("Questionnaire")


def _y(score: float, max_score: int) -> float:
    return round(TOP + PLOT_H * (1 - score / max_score), 1)


def build_chart(definition: Questionnaire, rows: list[ScoreRow], *, clinician: bool, zone) -> Chart:
    """One questionnaire's chart. Response and remission are worked out for
    every point after a baseline (the latest screening before it); the
    client's chart shows the bands and scores, the clinicians' marks them."""
    max_score = 3 * len(definition.items)
    bands = [
        BandRect(
            y=_y(band.high + 1 if band.high < max_score else max_score, max_score),
            height=round(
                _y(band.low, max_score)
                - _y(band.high + 1 if band.high < max_score else max_score, max_score),
                1,
            ),
            label=f"{band.label} ({band.low}–{band.high})",
            fill=BAND_FILLS.get(band.code, "#eeeeee"),
            label_y=round(
                (_y(band.low, max_score) + _y(min(band.high + 1, max_score), max_score)) / 2 + 4, 1
            ),
        )
        for band in definition.bands
    ]
    mine = [row for row in rows if row.response.questionnaire == definition.code]
    chart = Chart(definition.code, "", max_score, bands, [], clinician)
    chart.title = "PHQ-9" if definition is PHQ9 else "GAD-7"
    chart.y_ticks = [(_y(v, max_score), v) for v in range(0, max_score + 1, 5)]
    if not mine:
        return chart
    first, last = mine[0].response.at, mine[-1].response.at
    span = (last - first).total_seconds()
    baseline: int | None = None
    for row in mine:
        response = row.response
        offset = (response.at - first).total_seconds()
        x = LEFT + (PLOT_W * offset / span if span else PLOT_W / 2)
        is_baseline = row.source == "baseline"
        if is_baseline:
            baseline = response.score
        drop = (
            baseline is not None
            and not is_baseline
            and baseline > 0
            and response.score <= baseline * (1 - RESPONSE_DROP)
        )
        local = timezone.localtime(response.at, zone)
        chart.points.append(
            ChartPoint(
                at=response.at,
                date=date_format(local, "SHORT_DATE_FORMAT"),
                score=response.score,
                band=str(definition.band(response.score).label),
                source=_source_label(row),
                x=round(x, 1),
                y=_y(response.score, max_score),
                is_baseline=is_baseline,
                response=bool(drop),
                remission=not is_baseline and response.score < REMISSION_BELOW,
            )
        )
    chart.polyline = " ".join(f"{p.x},{p.y}" for p in chart.points)
    ticks = [chart.points[0]]
    if len(chart.points) > 1:
        ticks.append(chart.points[-1])
    chart.ticks = [(p.x, p.date) for p in ticks]
    return chart


def build_charts(rows: list[ScoreRow], *, clinician: bool, zone) -> list[Chart]:
    return [build_chart(q, rows, clinician=clinician, zone=zone) for q in (PHQ9, GAD7)]
