"""The demo's pages are served by the app in sandbox mode, told where the API is."""

from __future__ import annotations


def test_the_demo_page_knows_the_api_and_the_checkout_script(testapp):
    assert testapp.get("/demo", status=302).location.endswith("/demo/")
    page = testapp.get("/demo/")
    assert page.content_type == "text/html"
    assert '<meta name="banter-api" content="/api/payments">' in page.text
    assert '<script src="/api/payments/_sandbox/razorpay/v1/checkout.js">' in page.text
    policy = page.headers["Content-Security-Policy"]
    assert "frame-src 'self'" in policy and "script-src 'self'" in policy


def test_the_demo_serves_only_its_own_files(testapp):
    script = testapp.get("/demo/assets/app.js")
    assert script.content_type == "text/javascript"
    assert testapp.get("/demo/assets/demo.css").content_type == "text/css"
    testapp.get("/demo/assets/index.html", status=404)
    testapp.get("/demo/assets/..%2Fviews.py", status=404)
    testapp.get("/demo/assets/nothing.js", status=404)
