"""The review report as a PDF: the same content as its JSON form."""

import io
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import (
    Flowable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from pmm_review.schemas import ReviewReport

STYLES = getSampleStyleSheet()
GRID = TableStyle(
    [
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("FONTSIZE", (0, 0), (-1, -1), 8),
    ]
)


def _text(value: object) -> Paragraph:
    return Paragraph(escape("" if value is None else str(value)), STYLES["BodyText"])


def _table(header: list[str], rows: list[list[object]]) -> Table:
    cells = [[_text(h) for h in header]] + [[_text(c) for c in row] for row in rows]
    table = Table(cells, repeatRows=1, hAlign="LEFT")
    table.setStyle(GRID)
    return table


def _section(title: str, header: list[str], rows: list[list[object]]) -> list[Flowable]:
    parts: list[Flowable] = [Paragraph(escape(title), STYLES["Heading2"])]
    parts.append(_table(header, rows) if rows else _text("None."))
    return [*parts, Spacer(1, 0.4 * cm)]


def render_pdf(report: ReviewReport) -> bytes:
    review = report.review
    cycle = review.cycle
    story: list[Flowable] = [
        Paragraph(escape(f"Peer review of {review.member}"), STYLES["Title"]),
        _text(
            f"Cycle {cycle.get('cycle_id')} (reporting year "
            f"{cycle.get('reporting_year')}), submission {review.submission_id}, "
            f"revision {review.revision}. State: {review.state}."
        ),
        _text(f"Reviewers: {', '.join(r.name for r in review.reviewers) or 'none'}."),
        *[_text(f"Warning: {w}") for w in review.warnings],
        Spacer(1, 0.4 * cm),
    ]
    story += _section(
        "Verdicts",
        ["KPI", "Verdict", "Reservation", "Revision", "By"],
        [
            [v.kpi, v.verdict, v.reservation, v.revision, v.given_by]
            for v in review.verdicts
        ],
    )
    story += _section(
        "Queries and answers",
        ["On", "Subject", "State", "Thread", "Reservation"],
        [
            [
                q.kpi or f"{q.data_element} {q.year or ''}".strip(),
                q.subject,
                q.state,
                "\n".join(f"{m.author_role}: {m.body}" for m in q.messages),
                q.reservation,
            ]
            for q in report.queries
        ],
    )
    story += _section(
        "Corrections",
        ["KPIs", "Reason", "Asked on", "Corrected in"],
        [
            [", ".join(c.kpis), c.reason, c.revision, c.corrected_revision]
            for c in review.corrections
        ],
    )
    story += _section(
        "Changed values",
        ["Revisions", "Data element", "Year", "Before", "After", "Queries"],
        [
            [
                f"{m.from_revision} -> {m.to_revision}",
                change["data_element"],
                change["year"],
                (change["before"] or {}).get("value"),
                (change["after"] or {}).get("value"),
                len(change["queries"]),
            ]
            for m in review.revision_moves
            for change in m.changes
        ],
    )
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=A4, title=f"Peer review {review.id}", author="WCO PMM"
    )
    document.build(story)
    return buffer.getvalue()
