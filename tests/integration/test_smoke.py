"""The pages answer, and the sign-in flow works end to end."""

from tests.helpers import login, logout, register


def test_register_sign_in_account_sign_out(client):
    """A new user registers, signs in, sees their account, and signs out."""
    assert register(client, "Alice").status_code == 302
    response = login(client, "alice")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = client.get("/account")
    assert page.status_code == 200
    assert "Alice" in page.get_data(as_text=True)
    assert logout(client).status_code == 302
    assert client.get("/account").status_code == 302
