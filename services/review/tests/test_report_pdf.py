"""The report's PDF renders whatever a thread holds: prose at the longest message the
API takes, one unbroken word wider than the page, and text in any script."""

import uuid
from datetime import date, timedelta

import pytest
from httpx import Response

from pmm_local.testing import RunningService
from pmm_review.schemas import MAX_MESSAGE_LENGTH

from .helpers import as_reviewer, if_match, pdf_text, review_in_progress

pytestmark = pytest.mark.asyncio(loop_scope="session")

SENTENCE = (
    "The figure counts every declaration lodged in the year, manifests included. "
)
PROSE = (SENTENCE * (MAX_MESSAGE_LENGTH // len(SENTENCE) + 1))[
    : MAX_MESSAGE_LENGTH - 1
] + "."
WORD = "x" * 1_000
# None of them is in Latin-1, which is all that the standard PDF fonts hold.
GREEK = "Τελωνείο"
CYRILLIC = "Таможня"
ACCENTED = "Cafe\u0301"  # e and a combining acute accent
ARABIC = "الجمارك"
UNKNOWN_TO_THE_FONT = "海关 🚀"


def _query(message: str) -> dict[str, str]:
    return {
        "kpi": "TF.1.1",
        "subject": "Source",
        "message": message,
        "due_date": (date.today() + timedelta(days=7)).isoformat(),
    }


async def _thread_in_report(
    s: RunningService, question: str, answer: str
) -> tuple[Response, Response, Response]:
    """A review whose one query asks `question` and is answered `answer` by the
    member's NCP; the query as opened, the answer, and the report's PDF."""
    ncp = s.token("ncp", "BRA")
    review, (reviewer, _) = await review_in_progress(s, f"sub-{uuid.uuid4().hex}")
    url = f"/reviews/{review['id']}"
    seen = await s.client.get(url, headers=ncp)
    opened = await s.client.post(
        f"{url}/queries",
        json=_query(question),
        headers={**as_reviewer(s, reviewer), **if_match(seen)},
    )
    answered = await s.client.post(
        f"/queries/{opened.json()['id']}/messages",
        json={"body": answer},
        headers={**ncp, **if_match(opened)},
    )
    pdf = await s.client.get(f"{url}/report.pdf", headers=ncp)
    return opened, answered, pdf


async def test_the_pdf_shows_the_longest_message_and_an_unbroken_word(
    review_service: RunningService,
) -> None:
    opened, answered, pdf = await _thread_in_report(review_service, PROSE, WORD)

    assert opened.status_code == 201, opened.text
    assert len(opened.json()["messages"][0]["body"]) == MAX_MESSAGE_LENGTH
    assert answered.status_code == 200, answered.text
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    shown = pdf_text(pdf.content)
    assert PROSE in shown
    # The word is broken across lines, each a part of it; together they hold it all.
    parts = [part for part in shown.split() if set(part) == {"x"}]
    assert len(parts) > 2
    assert sum(len(part) for part in parts) >= 2 * len(WORD)  # thread and history


async def test_a_message_beyond_the_maximum_is_refused(
    review_service: RunningService,
) -> None:
    s = review_service
    review, (reviewer, _) = await review_in_progress(s, f"sub-{uuid.uuid4().hex}")
    url = f"/reviews/{review['id']}"
    seen = await s.client.get(url, headers=s.token("secretariat"))

    too_long = await s.client.post(
        f"{url}/queries",
        json=_query("y" * (MAX_MESSAGE_LENGTH + 1)),
        headers={**as_reviewer(s, reviewer), **if_match(seen)},
    )
    opened = await s.client.post(
        f"{url}/queries",
        json=_query("Which system produced it?"),
        headers={**as_reviewer(s, reviewer), **if_match(seen)},
    )
    answer_too_long = await s.client.post(
        f"/queries/{opened.json()['id']}/messages",
        json={"body": "z" * (MAX_MESSAGE_LENGTH + 1)},
        headers={**s.token("ncp", "BRA"), **if_match(opened)},
    )
    after = await s.client.get(
        f"/queries/{opened.json()['id']}", headers=s.token("secretariat")
    )

    assert too_long.status_code == 422
    assert too_long.json()["type"] == "urn:pmm:problem:validation"
    assert [(e["field"], e["code"]) for e in too_long.json()["errors"]] == [
        ("body.message", "string_too_long")
    ]
    assert [(e["field"], e["code"]) for e in answer_too_long.json()["errors"]] == [
        ("body.body", "string_too_long")
    ]
    assert after.json()["state"] == "open"
    assert [m["body"] for m in after.json()["messages"]] == [
        "Which system produced it?"
    ]


async def test_the_pdf_keeps_text_in_every_script_its_font_covers(
    review_service: RunningService,
) -> None:
    _, answered, pdf = await _thread_in_report(
        review_service,
        f"{GREEK} {CYRILLIC} {ACCENTED} {ARABIC}",
        f"Before {UNKNOWN_TO_THE_FONT} after.",
    )

    assert answered.status_code == 200, answered.text
    assert pdf.status_code == 200, pdf.text
    shown = pdf_text(pdf.content)
    for text in (GREEK, CYRILLIC, ACCENTED):
        assert text in shown
    # Arabic is written in the order it was typed, which a PDF reader takes for the
    # order drawn on the page and turns round (see the README).
    assert ARABIC[::-1] in shown
    assert "Before" in shown
    assert "after." in shown
