"""The invariant checker finds each kind of damage, and its script exits non-zero."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from banter_payments.ledger.checker import check_ledger, main


@pytest.fixture
def populated(ledger, dbsession):
    ledger.grant("alice", {"coins": 100, "credits": 50}, "order:1", "Purchase")
    ledger.transfer("alice", "bob", "coins", 30, "gift:1", "Gift")
    ledger.debit("bob", "coins", 10, "host:1", "Spend")
    ledger.clawback("alice", {"credits": 20}, "refund:1", "Refund")
    dbsession.commit()
    return dbsession


def test_a_clean_ledger_has_no_problems(populated):
    assert check_ledger(populated) == []


def test_the_script_exits_zero_on_a_clean_ledger(populated, database_url, capsys):
    assert main(["--database-url", database_url]) == 0
    assert capsys.readouterr().out.strip() == (
        "ledger check passed: 4 postings, 10 entries, 7 accounts")


@pytest.mark.parametrize(("damage", "expected"), [
    ("UPDATE ledger_accounts SET balance = balance + 1 WHERE owner_id = 'bob'",
     ["cached balance differs from the sum of entries"]),
    ("UPDATE ledger_entries SET amount = amount + 1 WHERE id = 2",
     ["unbalanced posting", "cached balance differs from the sum of entries",
      "lifetime totals differ from the entries",
      "balance_after differs from the running sum"]),
    ("DELETE FROM ledger_entries WHERE id = 8",
     ["posting with a single entry", "unbalanced posting"]),
    ("UPDATE ledger_accounts SET total_out = total_out + 5 WHERE owner_id = 'alice'",
     ["lifetime totals differ from the entries"]),
    ("UPDATE ledger_entries SET balance_after = 99 WHERE id = 4",
     ["balance_after differs from the running sum"]),
    ("UPDATE ledger_entries SET asset = 'credits' WHERE id = 1",
     ["unbalanced posting", "entry asset differs from its account's"]),
])
def test_damage_is_reported(populated, database_url, capsys, damage, expected):
    populated.execute(sa.text(damage))
    populated.commit()

    problems = check_ledger(populated)
    assert sorted({problem.split(":")[0] for problem in problems}) == sorted(expected)
    assert main(["--database-url", database_url]) == 1
    assert "ledger check FAILED" in capsys.readouterr().out


def test_the_script_needs_a_database(capsys):
    assert main([]) == 2
    assert "give an ini file or --database-url" in capsys.readouterr().err


def test_the_script_reads_the_url_from_an_ini_file(populated, database_url, tmp_path,
                                                    capsys, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    ini = tmp_path / "app.ini"
    ini.write_text(f"[app:main]\nuse = egg:banter-payments\nsqlalchemy.url = {database_url}\n")
    assert main([str(ini)]) == 0
    assert "ledger check passed" in capsys.readouterr().out


def test_the_script_says_when_there_is_no_ledger(tmp_path, capsys):
    assert main(["--database-url", f"sqlite:///{tmp_path / 'empty.sqlite'}"]) == 2
    assert "cannot read the ledger" in capsys.readouterr().err
