"""Every kind renders in both parts; amounts in the reader's locale; a host overrides a
kind's template; the preview script and the development file mailer write files."""

from __future__ import annotations

import email
from email import policy

import pytest
from banter_notifications.kinds import KINDS
from banter_notifications.mail import FileMailer, Renderer, build_message
from banter_notifications.money import format_money
from banter_notifications.reasons import explain
from banter_notifications.samples import sample
from banter_notifications.scripts import main as script_main

from tests.common.payment_kit import write_ini


@pytest.fixture
def renderer():
    return Renderer("banter_notifications:templates", "https://app.test/", "en_IN")


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_both_parts_with_its_amount_and_link(renderer, kind):
    data = sample(kind)
    subject, text, html = renderer.render(data)
    assert subject and "\n" not in subject
    assert text.startswith("Hi Sam Reader,")
    assert "<html" in html and "Sam Reader" in html
    context = data["context"]
    if context.get("amount") is not None:
        amount = format_money(context["amount"], context["currency"], "en_IN")
        assert amount in text and amount in html
    assert "https://app.test/" in text and 'href="https://app.test/' in html


@pytest.mark.parametrize(("amount", "currency", "locale", "expected"), [
    (450000, "INR", "en_IN", "₹4,500.00"),
    (1000000000, "INR", "en_IN", "₹1,00,00,000.00"),
    (44900, "INR", "en-IN", "₹449.00"),
    (1999, "USD", "en_US", "$19.99"),
    (500, "JPY", "ja_JP", "￥500"),
    (123456, "EUR", "de_DE", "1.234,56\xa0€"),
    (44900, "INR", "xx_NOWHERE", "₹449.00"),
    (44900, "INR", None, "₹449.00"),
])
def test_amounts_are_minor_units_in_the_readers_locale(amount, currency, locale, expected):
    assert format_money(amount, currency, locale) == expected


@pytest.mark.parametrize(("code", "description", "words"), [
    ("BAD_REQUEST_ERROR", "Payment failed due to insufficient funds", "not enough money"),
    ("BAD_REQUEST_ERROR", "Payment was cancelled by the user", "cancelled"),
    ("BAD_REQUEST_ERROR", "Your payment was declined by the bank", "declined"),
    ("GATEWAY_ERROR", "Payment processing failed due to error at bank or wallet gateway",
     "on its side"),
    (None, None, "did not go through"),
])
def test_razorpay_reasons_in_plain_words(code, description, words):
    explanation = explain(code, description)
    assert words in explanation.reason
    assert explanation.advice


def test_a_host_overrides_one_kind_and_keeps_the_others(tmp_path):
    (tmp_path / "gift_received.subject.txt").write_text("A present from {{ c.fromName }}")
    renderer = Renderer(str(tmp_path), "https://app.test/", "en_IN")
    assert renderer.render(sample("gift_received"))[0] == "A present from Alice"
    assert renderer.render(sample("purchase_succeeded"))[0].startswith("Receipt:")


def test_a_message_has_one_line_headers_and_a_stable_message_id(renderer):
    data = sample("gift_received")
    data["to"]["name"] = "Sam\r\nBcc: x@evil.test"
    message = build_message(data, renderer.render(data), sender="B <b@x.test>",
                            reply_to=None, message_id="ntf_1").to_message()
    parsed = email.message_from_string(message.as_string(), policy=policy.default)
    assert parsed["To"] == '"Sam Bcc: x@evil.test" <reader@example.com>'
    assert parsed["Message-ID"] == "<ntf_1@banter-payments>"
    assert parsed["Bcc"] is None


def test_the_file_mailer_writes_one_eml_per_notification(tmp_path, renderer):
    mailer = FileMailer(str(tmp_path / "mail"))
    data = sample("purchase_succeeded")
    message = build_message(data, renderer.render(data), sender="B <b@x.test>",
                            reply_to=None, message_id="ntf_42")
    mailer.send_immediately(message)
    mailer.send_immediately(message)  # a retried delivery replaces its file
    [written] = list((tmp_path / "mail").iterdir())
    assert written.name == "ntf_42.eml"
    parsed = email.message_from_bytes(written.read_bytes(), policy=policy.default)
    assert "₹4,500.00" in parsed.get_body(preferencelist=("plain",)).get_content()


def test_the_preview_script_writes_every_kind(tmp_path, settings, capsys):
    settings = {**settings, "banter_payments.plugins": "banter_coins banter_notifications"}
    ini = write_ini(tmp_path / "app.ini", settings)
    out = tmp_path / "preview"
    assert script_main(["preview", ini, "all", "--out", str(out)]) == 0
    names = sorted(path.name for path in out.iterdir())
    assert names == sorted(f"{kind}.{ext}" for kind in KINDS for ext in ("eml", "html", "txt"))
    assert "₹4,500.00" in (out / "purchase_succeeded.html").read_text()
    assert str(out / "gift_received.eml") in capsys.readouterr().out


def test_the_preview_script_says_when_the_plugin_is_off(tmp_path, settings, capsys):
    ini = write_ini(tmp_path / "app.ini", {**settings, "banter_payments.plugins": "banter_coins"})
    assert script_main(["preview", ini, "gift_received", "--out", str(tmp_path)]) == 2
    assert "banter_notifications is not in banter_payments.plugins" in capsys.readouterr().err
