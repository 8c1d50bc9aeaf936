import pytest

from banter_payments.jsonparse import InvalidJSON, parse_json


def test_a_document_parses():
    assert parse_json(b'{"a": [1, 2.5, "x", null, true]}') == {"a": [1, 2.5, "x", None, True]}


@pytest.mark.parametrize(
    "raw",
    [b"", b"{", b"NaN", b'{"a": Infinity}', b'[-Infinity]', b"\xff", b"[" * 100_000],
)
def test_anything_else_is_invalid_json(raw):
    with pytest.raises(InvalidJSON):
        parse_json(raw)


@pytest.mark.parametrize(
    "raw",
    [b'"\\ud800"', b'{"a": ["x", "\\udfff"]}', b'{"\\ud83d": 1}'],
)
def test_lone_surrogates_are_invalid_json(raw):
    with pytest.raises(InvalidJSON, match="not valid Unicode"):
        parse_json(raw)


def test_a_surrogate_pair_is_text():
    assert parse_json(b'"\\ud83d\\ude00"') == "\U0001F600"
