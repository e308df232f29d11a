import pytest

from pmm_methodology import parse
from pmm_methodology.expressions import ElementSignature, ValueType, check_types

ELEMENTS = {
    "COUNT": ElementSignature(ValueType.NUMBER),
    "FLAG": ElementSignature(ValueType.BOOLEAN),
    "STATUS": ElementSignature(ValueType.TEXT, frozenset({"none", "full"})),
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("COUNT / 2", ValueType.NUMBER),
        ("FLAG and COUNT[T-1] > 0", ValueType.BOOLEAN),
        ("STATUS", ValueType.TEXT),
        ("1 if STATUS == 'full' else 0", ValueType.NUMBER),
        ("provided(COUNT) or not_available(STATUS)", ValueType.BOOLEAN),
    ],
)
def test_well_typed_expressions(text: str, expected: ValueType) -> None:
    found, problems = check_types(parse(text), ELEMENTS)

    assert problems == []
    assert found is expected


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("COUNT + FLAG", "'+' needs number, found yes/no", 9),
        ("not COUNT", "'not' needs yes/no, found number", 5),
        ("STATUS < 3", "'<' needs numbers, found text", 1),
        ("FLAG == 1", "'==' compares yes/no with number", 6),
        ("1 if FLAG else true", "the two branches give number and yes/no", 3),
        (
            "COUNT if COUNT else 0",
            "the condition after 'if' needs yes/no, found number",
            10,
        ),
        ("STATUS == 'partial'", "'partial' is not a value of STATUS (full, none)", 11),
        ("min(COUNT, FLAG)", "min() needs number, found yes/no", 12),
        ("OTHER * 2", "unknown data element 'OTHER'", 1),
        ("provided(OTHER[T-1])", "unknown data element 'OTHER'", 10),
    ],
)
def test_type_problems_carry_their_position(
    text: str, message: str, position: int
) -> None:
    _, problems = check_types(parse(text), ELEMENTS)

    assert [(p.message, p.position) for p in problems] == [(message, position)]
