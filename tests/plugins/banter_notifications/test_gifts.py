"""A gift notifies its receiver in the app and by mail; what a sender writes (a name in
the directory, a note) cannot reach a mail header or the HTML as markup."""

from __future__ import annotations

from .conftest import PREFIX, parts, send_mail, wait_for_mail

GIFTS = f"{PREFIX}/gifts"
EXPECTED_HEADERS = {"content-type", "mime-version", "from", "to", "subject", "message-id",
                    "auto-submitted", "reply-to", "date"}


def test_a_gift_notifies_the_receiver_in_app_and_by_mail(testapp, auth, fund, smtp,
                                                         registry):
    fund("alice", 500)
    gift = testapp.post_json(GIFTS, {"to": "bob", "coins": 1500 // 10, "note": "gg"},
                             headers=auth("alice"), status=201).json
    inbox = testapp.get(f"{PREFIX}/notifications", headers=auth("bob")).json
    [item] = inbox["items"]
    assert (item["kind"], item["reference"], item["read"], item["emailed"]) == (
        "gift_received", f"gift:{gift['id']}", False, True)
    assert item["body"] == "Alice sent you 150 coins."
    assert testapp.get(f"{PREFIX}/notifications", headers=auth("alice")).json["items"] == []

    assert send_mail(registry) == 1
    [mail] = wait_for_mail(smtp, 1)
    assert mail["To"] == "Bob <bob@example.com>"
    assert mail["Subject"] == "Alice sent you 150 coins"
    text, html = parts(mail)
    assert "gg" in text and "gg" in html
    assert "https://app.banter.test/wallet" in html


def test_html_in_a_note_is_escaped(testapp, auth, fund, smtp, registry):
    fund("alice", 500)
    note = '<script>alert(1)</script><a href="https://evil.test">win</a>'
    testapp.post_json(GIFTS, {"to": "bob", "coins": 5, "note": note}, headers=auth("alice"),
                      status=201)
    send_mail(registry)
    [mail] = wait_for_mail(smtp, 1)
    text, html = parts(mail)
    assert "<script>" not in html and 'href="https://evil.test"' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert note in text  # the text part is plain text: shown as written, never run


def test_names_with_newlines_change_no_header(testapp, auth, fund, smtp, registry):
    """mallory's directory name carries CR/LF, a Bcc and a Subject, and is 5000
    characters long; she sends eve (whose name carries a Bcc too) a gift."""
    fund("mallory", 500)
    testapp.post_json(GIFTS, {"to": "eve", "coins": 5}, headers=auth("mallory"), status=201)
    send_mail(registry)
    [mail] = wait_for_mail(smtp, 1)
    assert {key.lower() for key in mail.keys()} == EXPECTED_HEADERS
    assert len(mail.get_all("Subject")) == 1
    subject = mail["Subject"]
    assert "\n" not in subject and "\r" not in subject and len(subject) <= 150
    assert subject.startswith("Mal Bcc: evil@evil.test Subject: pwned")
    assert mail["To"] == '"Eve Bcc: evil@evil.test" <eve@example.com>'
    assert smtp.inbox.envelopes == [("receipts@banter.test", ["eve@example.com"])]
