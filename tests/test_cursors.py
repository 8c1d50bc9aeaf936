import pytest

from banter_payments.cursors import decode_cursor, encode_cursor, page
from banter_payments.errors import ValidationFailed
from banter_payments.ids import new_id


def test_a_cursor_round_trips_and_is_opaque():
    order_id = new_id("ord")
    cursor = encode_cursor(order_id)
    assert order_id not in cursor
    assert decode_cursor(cursor, "ord") == order_id


@pytest.mark.parametrize(
    "cursor",
    ["", "%%%", "nope", encode_cursor("whd_01M801BBGAYPQ4W5RNJJXDC9GV"),
     encode_cursor("ord_short"), encode_cursor("ord_01M801BBGAYPQ4W5RNJJXDC9G'"),
     "ord_01M801BBGAYPQ4W5RNJJXDC9GV", "é"],
)
def test_anything_we_did_not_issue_for_this_list_is_400(cursor):
    with pytest.raises(ValidationFailed):
        decode_cursor(cursor, "ord")


def test_a_page_names_its_last_item_only_when_more_follow():
    class Row:
        def __init__(self, id):
            self.id = id

    rows = [Row(f"ord_{n:026d}") for n in (3, 2, 1)]
    items, cursor = page(rows, 2)
    assert [r.id for r in items] == [rows[0].id, rows[1].id]
    assert decode_cursor(cursor, "ord") == rows[1].id
    assert page(rows, 3) == (rows, None)
