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


def test_the_dashboard_charts_are_drawn_by_the_demos_own_script(testapp):
    """The metrics page's charts come from charts.js, served here; it builds SVG in the
    page and imports nothing from elsewhere."""
    charts = testapp.get("/demo/assets/charts.js")
    assert charts.content_type == "text/javascript"
    assert 'const NS = "http://www.w3.org/2000/svg"' in charts.text
    assert "import " not in charts.text and "fetch(" not in charts.text
    app = testapp.get("/demo/assets/app.js").text
    assert 'import { barChart, lineChart } from "./charts.js";' in app
    assert 'path: "admin/metrics"' in app
