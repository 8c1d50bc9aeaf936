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
