import hashlib
import json
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmm_methodology import (
    Computed,
    DataValue,
    Expression,
    ExpressionSyntaxError,
    Framework,
    FrameworkError,
    NotComputable,
    ValueKey,
    canonical_json,
    compute,
    evaluate,
    inputs_fingerprint,
    load_framework,
    parse,
    reference_framework,
)
from pmm_methodology.expressions import evaluated

# No example database: the tests leave nothing behind in the checkout.
_BASE = settings(
    database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
YEAR = 2022
CODES = ["A", "B", "C"]
EDGE_NUMBERS = [
    Decimal(0),
    Decimal("-0"),
    Decimal("0.000"),
    Decimal(-1),
    Decimal("-123.456"),
    Decimal("9E+999998"),
    Decimal("-9E+999998"),
    Decimal("1E-999990"),
    Decimal("123456789012345678901234567890123456789"),
    Decimal("0.1"),
]

numbers = st.one_of(
    st.sampled_from(EDGE_NUMBERS),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(10**40), max_value=10**40).map(Decimal),
)
data_values = st.one_of(
    numbers.map(DataValue.provided),
    st.booleans().map(DataValue.provided),
    st.sampled_from(["full", "none", "x"]).map(DataValue.provided),
    st.just(DataValue.not_applicable("opt-out")),
    st.just(DataValue.not_available("not measured")),
)
value_maps = st.dictionaries(
    st.tuples(st.sampled_from(CODES), st.sampled_from([YEAR, YEAR - 1])),
    data_values,
)

literals = st.one_of(
    st.from_regex(r"[0-9]{1,40}(\.[0-9]{1,40})?", fullmatch=True),
    st.sampled_from(["0", "0.0", "true", "false", "'full'", "'none'"]),
    st.sampled_from(CODES).flatmap(
        lambda code: st.sampled_from([code, f"{code}[T-1]", f"{code}[T]"])
    ),
    st.tuples(
        st.sampled_from(["provided", "not_applicable", "not_available"]),
        st.sampled_from(CODES),
        st.sampled_from(["", "[T-1]"]),
    ).map(lambda parts: f"{parts[0]}({parts[1]}{parts[2]})"),
)


def _parsed(text: str) -> Expression | ExpressionSyntaxError:
    try:
        return parse(text)
    except ExpressionSyntaxError as error:
        return error


def _loaded(text: str) -> Framework | FrameworkError:
    try:
        return load_framework(text)
    except FrameworkError as error:
        return error


OPERATORS = ["+", "-", "*", "/", "==", "!=", "<", "<=", ">", ">=", "and", "or"]


def _extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(children, st.sampled_from(OPERATORS), children).map(
            lambda p: f"({p[0]} {p[1]} {p[2]})"
        ),
        children.map(lambda c: f"-({c})"),
        children.map(lambda c: f"(not ({c}))"),
        st.tuples(children, children, children).map(
            lambda p: f"({p[0]} if {p[1]} else {p[2]})"
        ),
        st.tuples(
            st.sampled_from(["min", "max"]), st.lists(children, min_size=2, max_size=3)
        ).map(lambda p: f"{p[0]}({', '.join(p[1])})"),
        children.map(lambda c: f"abs({c})"),
        st.tuples(
            children, st.sampled_from(["0", "2", "12", "13", "0.5", "-1", "A"])
        ).map(lambda p: f"round({p[0]}, {p[1]})"),
    )


expressions = st.recursive(literals, _extend, max_leaves=25)


@settings(_BASE, max_examples=400)
@given(text=st.text(max_size=80))
def test_parsing_any_text_gives_a_tree_or_a_syntax_error(text: str) -> None:
    parsed = _parsed(text)

    if isinstance(parsed, ExpressionSyntaxError):
        assert 1 <= parsed.position <= len(text) + 1
    else:
        assert parsed.text == text


@settings(_BASE, max_examples=200)
@given(text=st.text(alphabet="ABC[]T-1 +*/()<=>!'afnortu_dvilbepx,0.9", max_size=60))
def test_parsing_near_valid_text_gives_a_tree_or_a_syntax_error(text: str) -> None:
    parsed = _parsed(text)

    if isinstance(parsed, ExpressionSyntaxError):
        assert 1 <= parsed.position <= len(text) + 1


@settings(_BASE, max_examples=300)
@given(text=expressions, values=value_maps)
def test_evaluation_never_raises(text: str, values: dict[ValueKey, DataValue]) -> None:
    parsed = _parsed(text)
    if isinstance(parsed, ExpressionSyntaxError):
        assert "nested deeper" in parsed.reason
        return

    result = evaluate(parsed, values, year=YEAR)

    assert isinstance(result, Computed | NotComputable)
    if isinstance(result, Computed) and isinstance(result.value, Decimal):
        assert result.value.is_finite()
    if isinstance(result, NotComputable):
        assert result.detail


@settings(_BASE, max_examples=300)
@given(text=expressions, values=value_maps)
def test_the_bare_evaluation_gives_what_evaluate_gives(
    text: str, values: dict[ValueKey, DataValue]
) -> None:
    parsed = _parsed(text)
    if isinstance(parsed, ExpressionSyntaxError):
        return

    bare = evaluated(parsed, values, year=YEAR)
    wrapped = evaluate(parsed, values, year=YEAR)

    if isinstance(wrapped, Computed):
        assert bare == wrapped.value
        assert type(bare) is type(wrapped.value)
        assert str(bare) == str(wrapped.value)
    else:
        assert bare == wrapped


@settings(_BASE, max_examples=300)
@given(values=value_maps)
def test_the_fingerprint_reads_each_value_as_its_json_dump(
    values: dict[ValueKey, DataValue],
) -> None:
    dumped = {
        "year": YEAR,
        "values": [
            {"element": element, "year": year, **value.model_dump(mode="json")}
            for (element, year), value in sorted(values.items())
        ],
        "kpi_opt_outs": [],
    }
    expected = hashlib.sha256(canonical_json(dumped).encode("utf-8")).hexdigest()

    assert inputs_fingerprint(YEAR, values, {}) == expected


numeric_literals = st.one_of(
    st.from_regex(r"[0-9]{1,40}(\.[0-9]{1,40})?", fullmatch=True),
    st.sampled_from(CODES).flatmap(
        lambda code: st.sampled_from([code, f"{code}[T-1]"])
    ),
)


def _extend_numeric(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(children, st.sampled_from(["+", "-", "*", "/"]), children).map(
            lambda p: f"({p[0]} {p[1]} {p[2]})"
        ),
        children.map(lambda c: f"-({c})"),
        st.tuples(children, children).map(lambda p: f"min({p[0]}, {p[1]})"),
        children.map(lambda c: f"round({c}, 2)"),
        st.tuples(children, children, children).map(
            lambda p: f"({p[0]} if {p[1]} > {p[2]} else {p[1]})"
        ),
    )


numeric_expressions = st.recursive(numeric_literals, _extend_numeric, max_leaves=25)
numeric_values = st.dictionaries(
    st.tuples(st.sampled_from(CODES), st.sampled_from([YEAR, YEAR - 1])),
    numbers.map(DataValue.provided),
)


@settings(_BASE, max_examples=300)
@given(text=numeric_expressions, values=numeric_values)
def test_arithmetic_on_any_numbers_gives_a_finite_number_or_a_reason(
    text: str, values: dict[ValueKey, DataValue]
) -> None:
    parsed = _parsed(text)
    if isinstance(parsed, ExpressionSyntaxError):
        assert "nested deeper" in parsed.reason
        return

    result = evaluate(parsed, values, year=YEAR)

    if isinstance(result, Computed):
        assert isinstance(result.value, Decimal)
        assert result.value.is_finite()
    else:
        assert result.reason.value in {
            "missing_input",
            "division_by_zero",
            "arithmetic_limit",
        }


element_codes = [element.code for element in reference_framework().data_elements]
kpi_codes = [kpi.code for kpi in reference_framework().kpis]
submissions = st.dictionaries(
    st.tuples(st.sampled_from(element_codes), st.sampled_from([2022, 2021, 2020])),
    data_values,
    max_size=60,
)
opt_outs = st.dictionaries(
    st.sampled_from([*kpi_codes, "XX.1"]), st.sampled_from(["reason", ""]), max_size=5
)


@settings(_BASE, max_examples=150)
@given(values=submissions, kpi_opt_outs=opt_outs)
def test_compute_never_raises_and_is_reproducible(
    values: dict[ValueKey, DataValue], kpi_opt_outs: dict[str, str]
) -> None:
    framework = reference_framework()

    first = compute(framework, 2022, values, kpi_opt_outs=kpi_opt_outs)
    second = compute(
        framework, 2022, dict(reversed(values.items())), kpi_opt_outs=kpi_opt_outs
    )

    text = first.to_canonical_json()
    assert text == second.to_canonical_json()
    json.loads(text, parse_float=_refuse_float)
    assert len(first.kpis) == 51


def _refuse_float(raw: str) -> object:
    raise AssertionError(f"float in canonical JSON: {raw}")


@settings(_BASE, max_examples=200)
@given(text=st.text(max_size=200))
def test_loading_any_text_gives_a_framework_or_a_framework_error(text: str) -> None:
    loaded = _loaded(text)

    assert isinstance(loaded, Framework) or loaded.problems


@settings(_BASE, max_examples=40)
@given(data=st.data())
def test_loading_a_damaged_reference_file_never_raises_anything_else(
    data: st.DataObject,
) -> None:
    from importlib import resources

    original = (
        resources.files("pmm_methodology")
        .joinpath("frameworks/pmm-v1.yaml")
        .read_text("utf-8")
    )
    start = data.draw(st.integers(min_value=0, max_value=len(original) - 1))
    length = data.draw(st.integers(min_value=1, max_value=40))
    replacement = data.draw(st.text(alphabet="abcXYZ019 :-[]{}'\"\n#.", max_size=10))
    damaged = original[:start] + replacement + original[start + length :]

    loaded = _loaded(damaged)

    assert isinstance(loaded, Framework) or loaded.problems
