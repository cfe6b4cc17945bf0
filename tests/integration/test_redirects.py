"""After sign-in, ``next`` is followed only when it is a path on this site."""

from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bastion.app.auth.redirects import safe_next
from tests.helpers import login, register

LOCAL = ["/", "/account", "/account?tab=1", "/a/b.c?x=1&y=2#part", "/caf%C3%A9"]
OFF_SITE = [
    "//evil.example",
    "///evil.example",
    "https://evil.example/",
    "http:evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r/evil.example",
    " //evil.example",
    "\x00//evil.example",
    "javascript:alert(1)",
    "evil.example",
    "account",
    "",
]


@pytest.fixture
def signed_up(client):
    """A client whose user is registered but not yet signed in."""
    register(client, "alice")
    return client


@pytest.mark.parametrize("target", ["/account", "/account?tab=1"])
def test_sign_in_follows_local_next(signed_up, target):
    """A ``next`` that is a path on this site is where sign-in lands."""
    response = login(signed_up, "alice", next_url=target)

    assert response.status_code == 302
    assert response.headers["Location"] == target


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example/",
        "/\\evil.example",
        "http:evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "",
    ],
)
def test_sign_in_ignores_off_site_next(signed_up, target):
    """A ``next`` that could lead off this site sends the user home instead."""
    response = login(signed_up, "alice", next_url=target)

    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_sign_in_without_next_goes_home(signed_up):
    """Without ``next``, sign-in lands on the home page."""
    response = login(signed_up, "alice")

    assert response.headers["Location"] == "/"


def test_non_ascii_next_is_sent_percent_encoded(signed_up):
    """A local ``next`` with non-ASCII characters becomes a valid Location."""
    response = login(signed_up, "alice", next_url="/密码?x=é")

    assert response.status_code == 302
    assert response.headers["Location"] == "/%E5%AF%86%E7%A0%81?x=%C3%A9"


@pytest.mark.parametrize(
    ("target", "location"),
    [("/account?tab=1", "/account?tab=1"), ("//evil.example", "/")],
)
def test_signed_in_user_opening_login_gets_same_check(signed_up, target, location):
    """A signed-in user opening /login?next= is redirected by the same rule."""
    login(signed_up, "alice")

    response = signed_up.get("/login", query_string={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == location


def test_account_page_round_trip_through_sign_in(client):
    """/account sends to sign-in with ``next``, and sign-in returns there."""
    register(client, "alice")
    location = client.get("/account").headers["Location"]
    query = parse_qs(urlsplit(location).query)
    assert query == {"next": ["/account"]}

    response = login(client, "alice", next_url=query["next"][0])
    assert response.headers["Location"] == "/account"


@pytest.mark.parametrize("target", LOCAL)
def test_safe_next_keeps_local_paths(target):
    """Paths on this site are returned unchanged."""
    assert safe_next(target) == target


@pytest.mark.parametrize("target", [*OFF_SITE, None])
def test_safe_next_refuses_anything_else(target):
    """Other sites, schemes, relative text, control characters and None give "/"."""
    assert safe_next(target) == "/"


_URL_ALPHABET = st.sampled_from(list("/\\:@.?#%abc \t\n\r\x00\x0b\u3000"))


@given(
    st.one_of(
        st.text(),
        st.text(_URL_ALPHABET),
        st.text(_URL_ALPHABET).map(lambda tail: "/" + tail),
    )
)
@example("//evil.example")
@example("/\\evil.example")
@example("/\t/evil.example")
def test_safe_next_never_leaves_the_site(target):
    """For any text, safe_next returns "/" or a local path without scheme or host."""
    result = safe_next(target)

    if result != "/":
        parts = urlsplit(result)
        assert result.startswith("/")
        assert not result.startswith("//")
        assert parts.scheme == ""
        assert parts.netloc == ""
        assert result == target
