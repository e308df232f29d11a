"""The review report as a PDF: the same content as its JSON form."""

import io
from datetime import UTC
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
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


BODY = ParagraphStyle("Body", parent=STYLES["BodyText"])
CELL = ParagraphStyle("Cell", parent=BODY, fontSize=8, leading=10)


def _text(value: object, style: ParagraphStyle = BODY) -> Paragraph:
    return Paragraph(escape("" if value is None else str(value)), style)


def _table(header: list[str], rows: list[list[object]]) -> Table:
    cells = [[_text(h, CELL) for h in header]]
    cells += [[_text(c, CELL) for c in row] for row in rows]
    table = Table(cells, repeatRows=1, hAlign="LEFT")
    table.setStyle(GRID)
    return table


def _section(title: str, header: list[str], rows: list[list[object]]) -> list[Flowable]:
    parts: list[Flowable] = [Paragraph(escape(title), STYLES["Heading2"])]
    parts.append(_table(header, rows) if rows else _text("None."))
    return [*parts, Spacer(1, 0.4 * cm)]


def _verdicts(report: ReviewReport) -> list[Flowable]:
    parts: list[Flowable] = [Paragraph("Verdicts", STYLES["Heading2"])]
    if not report.review.verdicts:
        parts.append(_text("None."))
    for v in report.review.verdicts:
        parts.append(
            _text(
                f"{v.kpi}: {v.verdict} on revision {v.revision}, by {v.given_by}."
                + (f" Reservation: {v.reservation}" if v.reservation else "")
            )
        )
    return [*parts, Spacer(1, 0.4 * cm)]


def _queries(report: ReviewReport) -> list[Flowable]:
    """Each query under a heading that names it by id, as the JSON report does."""
    parts: list[Flowable] = [Paragraph("Queries and answers", STYLES["Heading2"])]
    if not report.queries:
        parts.append(_text("None."))
    for q in report.queries:
        target = q.kpi or f"{q.data_element} {q.year or ''}".strip()
        parts += [
            Paragraph(escape(f"Query {q.id}"), STYLES["Heading3"]),
            _text(
                f"On {target}, revision {q.revision}: {q.subject}. State: {q.state}."
                + (f" Reservation: {q.reservation}" if q.reservation else "")
            ),
            _table(
                ["From", "Message", "Revision"],
                [[m.author_role, m.body, m.revision] for m in q.messages],
            ),
        ]
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
    story += _verdicts(report)
    story += _queries(report)
    story += _section(
        "Corrections",
        ["KPIs", "Reason", "Asked on", "State", "Corrected in", "Lapsed because"],
        [
            [
                ", ".join(c.kpis),
                c.reason,
                c.revision,
                c.state,
                c.corrected_revision,
                c.lapse_reason,
            ]
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
    story += _section(
        "History",
        ["At", "Actor", "Action", "From", "To", "Reason"],
        [
            [
                f"{t.at.astimezone(UTC):%Y-%m-%d %H:%M} UTC",
                t.actor,
                t.action,
                t.from_state,
                t.to_state,
                t.reason,
            ]
            for t in report.history
        ],
    )
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=A4, title=f"Peer review {review.id}", author="WCO PMM"
    )
    document.build(story)
    return buffer.getvalue()
