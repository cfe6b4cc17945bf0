"""The browser harness itself: it sees page errors and restarts like a browser."""

import pytest

pytestmark = pytest.mark.slow


def test_console_errors_and_uncaught_exceptions_are_recorded(page, browser_watch):
    """An error a page logs or throws is recorded, so the test would fail."""
    page.goto("/")
    page.evaluate("console.error('probe: logged')")
    with page.expect_event("pageerror"):
        page.evaluate("setTimeout(() => { throw new Error('probe: thrown') })")

    assert browser_watch.errors == [
        f"console error at {page.url}: probe: logged",
        "uncaught Error: probe: thrown",
    ]
    # Forget the probes; errors still recorded after the test body fail it.
    browser_watch.errors.clear()


def test_restart_keeps_only_cookies_with_an_expiry(
    context, restart_browser, live_server
):
    """A restarted browser keeps persistent cookies and drops session cookies."""
    url = live_server.url
    context.add_cookies(
        [
            {"name": "for_this_session", "value": "1", "url": url},
            {"name": "kept", "value": "1", "url": url, "expires": 4_000_000_000},
        ]
    )

    restarted = restart_browser(context)

    assert [cookie["name"] for cookie in restarted.cookies()] == ["kept"]


def test_favicon_is_served(page):
    """The site answers /favicon.ico, so browsers log no error for it."""
    # Fetched, not opened: as a page of its own, an image gets Chromium's viewer,
    # whose inline styles the site's CSP (rightly) refuses.
    response = page.request.get("/favicon.ico")
    assert response.status == 200
    assert response.headers["content-type"] == "image/png"
