"""Sessions in a real browser: remember-me across a restart, ending another device."""

import re

from playwright.sync_api import expect


def _is_signed_in(page) -> bool:
    page.goto("/account")
    return re.search(r"/account$", page.url) is not None


def test_remember_me_survives_a_browser_restart(
    context, restart_browser, sign_in, registered_user, screenshot
):
    """Ticking "remember me" keeps the device signed in after the browser restarts."""
    page = context.new_page()
    sign_in(page, registered_user, remember=True)
    expect(page.get_by_text(registered_user.username).first).to_be_visible()

    reopened = restart_browser(context)
    page = reopened.new_page()

    assert _is_signed_in(page)
    screenshot(page, "remembered-after-restart")


def test_without_remember_me_a_restart_signs_out(
    context, restart_browser, sign_in, registered_user
):
    """Without "remember me", quitting the browser ends the sign-in."""
    page = context.new_page()
    sign_in(page, registered_user)
    assert _is_signed_in(page)

    reopened = restart_browser(context)

    assert not _is_signed_in(reopened.new_page())


def test_ending_a_session_from_another_device(
    new_context, sign_in, registered_user, screenshot
):
    """A second browser ends the first one's session; the first loses access."""
    laptop = new_context().new_page()
    sign_in(laptop, registered_user)
    assert _is_signed_in(laptop)
    phone = new_context().new_page()
    sign_in(phone, registered_user)

    phone.goto("/account/sessions")
    screenshot(phone, "session-list")
    rows = phone.locator("table.sessions tbody tr")
    expect(rows).to_have_count(2)
    other = rows.filter(has_not=phone.get_by_text("(this session)"))
    other.get_by_role("button", name="End").click()
    expect(phone.get_by_role("status")).to_have_text("That session has ended.")

    assert not _is_signed_in(laptop)
    expect(laptop).to_have_url(re.compile(r"/login\?next=%2Faccount$"))
    assert _is_signed_in(phone)


def test_session_cookies_are_invisible_to_scripts(context, sign_in, registered_user):
    """document.cookie shows neither the session nor the remember-me cookie."""
    page = context.new_page()
    sign_in(page, registered_user, remember=True)
    names = {cookie["name"] for cookie in context.cookies()}

    assert {"session", "remember"} <= names
    assert page.evaluate("document.cookie") == ""
