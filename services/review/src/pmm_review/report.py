"""The review report as a PDF: the same content as its JSON form.

What people wrote (messages, reasons, reservations, names) can be long prose or hold
one unbroken word of any length: it is set in paragraphs that break across pages and
split a word wider than their column, and every table has fixed column widths and rows
that may split across pages. So no text can make a page overflow.

Members write in many scripts, and the standard PDF fonts hold Latin-1 only: the report
is set in DejaVu Sans, embedded, which this package ships (data/fonts/README.md says
what it covers). A character it lacks is drawn as an empty box, never an error.
"""

import io
from collections.abc import Sequence
from datetime import UTC
from importlib import resources
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Flowable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from pmm_review.schemas import MessageView, QueryView, ReviewReport

FONT = "DejaVuSans"
BOLD_FONT = "DejaVuSans-Bold"
FONT_FILES = {FONT: "DejaVuSans.ttf", BOLD_FONT: "DejaVuSans-Bold.ttf"}


def _register_fonts() -> None:
    """Read from the package's own files, so that the report needs no font installed
    on the machine and none fetched."""
    folder = resources.files("pmm_review").joinpath("data/fonts")
    for name, file in FONT_FILES.items():
        data = folder.joinpath(file).read_bytes()
        pdfmetrics.registerFont(TTFont(name, io.BytesIO(data)))
    pdfmetrics.registerFontFamily(
        FONT, normal=FONT, bold=BOLD_FONT, italic=FONT, boldItalic=BOLD_FONT
    )


_register_fonts()

MARGIN = 2 * cm
FRAME_WIDTH = A4[0] - 2 * MARGIN
STYLES = getSampleStyleSheet()
GRID = TableStyle(
    [
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("FONTSIZE", (0, 0), (-1, -1), 8),
    ]
)


TITLE = ParagraphStyle("ReportTitle", parent=STYLES["Title"], fontName=BOLD_FONT)
HEADING = ParagraphStyle("Heading", parent=STYLES["Heading2"], fontName=BOLD_FONT)
SUBHEADING = ParagraphStyle("Subheading", parent=STYLES["Heading3"], fontName=BOLD_FONT)
BODY = ParagraphStyle(
    "Body", parent=STYLES["BodyText"], fontName=FONT, splitLongWords=1
)
CELL = ParagraphStyle("Cell", parent=BODY, fontSize=8, leading=10)
MESSAGE_HEADER = ParagraphStyle(
    "MessageHeader", parent=BODY, fontName=BOLD_FONT, spaceBefore=4
)
MESSAGE = ParagraphStyle("Message", parent=BODY, leftIndent=0.5 * cm)


def _markup(value: object) -> str:
    """The text as paragraph markup that shows it as written, line breaks kept."""
    text = "" if value is None else str(value)
    return escape(text).replace("\r\n", "\n").replace("\n", "<br/>")


def _text(value: object, style: ParagraphStyle = BODY) -> Paragraph:
    return Paragraph(_markup(value), style)


def _table(
    header: list[str], rows: list[list[object]], shares: Sequence[float]
) -> Table:
    """`shares` of the frame's width, one per column: a table sized by its content
    would give an unbroken word's column the whole page and the others none."""
    cells = [[_text(h, CELL) for h in header]]
    cells += [[_text(c, CELL) for c in row] for row in rows]
    table = Table(
        cells,
        colWidths=[FRAME_WIDTH * share for share in shares],
        repeatRows=1,
        splitInRow=1,
        hAlign="LEFT",
    )
    table.setStyle(GRID)
    return table


def _section(
    title: str,
    header: list[str],
    rows: list[list[object]],
    shares: Sequence[float],
) -> list[Flowable]:
    parts: list[Flowable] = [Paragraph(escape(title), HEADING)]
    parts.append(_table(header, rows, shares) if rows else _text("None."))
    return [*parts, Spacer(1, 0.4 * cm)]


def _verdicts(report: ReviewReport) -> list[Flowable]:
    parts: list[Flowable] = [Paragraph("Verdicts", HEADING)]
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


def _message(message: MessageView) -> list[Flowable]:
    sent = f"{message.sent_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    return [
        _text(
            f"{message.author_role} {message.author}, revision {message.revision}, "
            f"{sent}:",
            MESSAGE_HEADER,
        ),
        _text(message.body, MESSAGE),
    ]


def _query(query: QueryView) -> list[Flowable]:
    target = query.kpi or f"{query.data_element} {query.year or ''}".strip()
    parts: list[Flowable] = [
        Paragraph(escape(f"Query {query.id}"), SUBHEADING),
        _text(
            f"On {target}, revision {query.revision}: {query.subject}. "
            f"State: {query.state}."
            + (f" Reservation: {query.reservation}" if query.reservation else "")
        ),
    ]
    for message in query.messages:
        parts += _message(message)
    return parts


def _queries(report: ReviewReport) -> list[Flowable]:
    """Each query under a heading that names it by id, as the JSON report does, and
    its messages as paragraphs: a thread is prose, and prose must flow."""
    parts: list[Flowable] = [Paragraph("Queries and answers", HEADING)]
    if not report.queries:
        parts.append(_text("None."))
    for query in report.queries:
        parts += _query(query)
    return [*parts, Spacer(1, 0.4 * cm)]


def render_pdf(report: ReviewReport) -> bytes:
    review = report.review
    cycle = review.cycle
    story: list[Flowable] = [
        Paragraph(escape(f"Peer review of {review.member}"), TITLE),
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
        (0.14, 0.32, 0.1, 0.12, 0.12, 0.2),
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
        (0.12, 0.28, 0.1, 0.2, 0.2, 0.1),
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
        (0.13, 0.15, 0.16, 0.12, 0.12, 0.32),
    )
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        title=f"Peer review {review.id}",
        author="WCO PMM",
    )
    document.build(story)
    return buffer.getvalue()
