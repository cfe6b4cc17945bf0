"""Registering, signing in and out in a real browser, with no console errors."""

import re
from dataclasses import replace

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.slow

SIGN_IN_FAILED = "Invalid username or password."


def test_register_sign_in_and_sign_out(
    page, context, screenshot, register, sign_in, credentials
):
    """A new user registers, signs in to their account, and signs out."""
    register(page, credentials)
    expect(page.get_by_role("status")).to_have_text(
        "Your account was created. Sign in to continue."
    )
    screenshot(page, "registered")

    page.goto("/account")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Faccount$"))
    sign_in(page, credentials)
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    expect(page.locator("main")).to_contain_text(credentials.username)
    screenshot(page, "account")

    cookies = context.cookies()
    assert cookies, "signing in set no cookie"
    assert all(cookie["httpOnly"] for cookie in cookies), cookies
    visible = page.evaluate("document.cookie")
    assert not any(cookie["name"] in visible for cookie in cookies), visible

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/\?signed-out=1$"))
    expect(page.get_by_text("You are not signed in.")).to_be_visible()
    screenshot(page, "signed-out")
    page.goto("/account")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Faccount$"))


def test_sign_out_says_so(page, sign_in, registered_user):
    """After signing out from the nav, the home page confirms it."""
    sign_in(page, registered_user)
    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(re.compile(r"/\?signed-out=1$"))
    expect(page.get_by_role("status")).to_have_text("You have signed out.")


@pytest.mark.parametrize("who", ["wrong password", "unknown user"])
def test_failed_sign_in_says_only_invalid(
    page, screenshot, sign_in, registered_user, who
):
    """A wrong password and an unknown username get the same message."""
    if who == "wrong password":
        attempt = replace(registered_user, password="not the right passphrase")
    else:
        attempt = replace(registered_user, username=f"no-{registered_user.username}")

    sign_in(page, attempt)
    expect(page.get_by_text(SIGN_IN_FAILED)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("link", name="Account", exact=True)).to_have_count(0)
    screenshot(page, "refused")


@pytest.mark.parametrize(
    ("path", "heading"),
    [("/", "Bastion"), ("/login", "Sign in"), ("/register", "Create an account")],
    ids=["home", "sign-in", "register"],
)
def test_signed_out_pages_load_cleanly(page, screenshot, path, heading):
    """Each page answers 200 and shows its heading; the console stays clean."""
    response = page.goto(path)
    assert response.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    screenshot(page, "page")


def test_signed_in_pages_load_cleanly(page, screenshot, sign_in, registered_user):
    """Signed in, every page answers 200 and the console stays clean."""
    sign_in(page, registered_user)
    expect(page.get_by_role("link", name="Account", exact=True)).to_be_visible()

    for path in ["/", "/login", "/register", "/account"]:
        response = page.goto(path)
        assert response.status == 200, path
        screenshot(page, path.strip("/") or "home")
    expect(page.get_by_text(registered_user.username)).to_be_visible()
