"""Security headers on every response, with a fresh CSP nonce for each request.

The defaults are the strictest the reference app needs: it has no inline script or
style, loads nothing from other origins and is never framed. A view that needs more
says so with ``@csp(...)``; nothing else loosens the policy.
"""

import secrets
from collections.abc import Callable

from flask import Flask, Response, current_app, g, request

from bastion.config import Settings

# At least 128 bits, as CSP level 3 asks of a nonce.
NONCE_BYTES = 18
HSTS_MAX_AGE_SECONDS = 2 * 365 * 24 * 60 * 60
NONCE = "{nonce}"

DEFAULT_CSP: dict[str, str] = {
    "default-src": "'none'",
    "script-src": f"'self' 'nonce-{NONCE}'",
    "style-src": f"'self' 'nonce-{NONCE}'",
    "img-src": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    "object-src": "'none'",
}

# Powerful features the app never uses; denying them limits what injected code can do.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)

STATIC_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": PERMISSIONS_POLICY,
    # Old browsers' XSS auditor could itself be abused; 0 turns it off.
    "X-XSS-Protection": "0",
}


def csp_nonce() -> str:
    """The nonce of this request, for ``<script nonce="{{ csp_nonce() }}">``."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(NONCE_BYTES)
    return g.csp_nonce


def csp(**directives: str) -> Callable:
    """Override CSP directives for one view: ``@csp(img_src="'self' data:")``.

    Write directive names with underscores; ``{nonce}`` in a value is replaced by
    the request's nonce.
    """

    def mark(view: Callable) -> Callable:
        view.bastion_csp = {
            name.replace("_", "-"): value for name, value in directives.items()
        }
        return view

    return mark


def init_headers(app: Flask, settings: Settings) -> None:
    """Add the security headers to every response of ``app``."""
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    csp_header = (
        "Content-Security-Policy-Report-Only"
        if settings.csp_report_only
        else "Content-Security-Policy"
    )
    report_uri = settings.csp_report_uri
    default_policy = _render_policy(DEFAULT_CSP, report_uri)
    fixed = list(STATIC_HEADERS.items())
    # RFC 6797: HSTS is sent over https only; over http it would be ignored anyway.
    secure_fixed = list(fixed)
    if settings.profile == "production":
        hsts = f"max-age={HSTS_MAX_AGE_SECONDS}; includeSubDomains"
        if settings.hsts_preload:
            hsts += "; preload"
        secure_fixed.append(("Strict-Transport-Security", hsts))

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        # This runs on every response, so the work is done once above: a policy with
        # a nonce slot, and a list of fixed headers added in one step.
        override = _view_policy()
        policy = (
            default_policy
            if override is None
            else _render_policy({**DEFAULT_CSP, **override}, report_uri)
        )
        headers = response.headers
        headers[csp_header] = policy.replace(NONCE, csp_nonce())
        present = {name.lower() for name, _ in headers}
        wanted = secure_fixed if request.is_secure else fixed
        headers.extend([pair for pair in wanted if pair[0].lower() not in present])
        return response


def _view_policy() -> dict[str, str] | None:
    if request.endpoint is None:
        return None
    view = current_app.view_functions.get(request.endpoint)
    return getattr(view, "bastion_csp", None)


def _render_policy(directives: dict[str, str], report_uri: str | None) -> str:
    if report_uri:
        directives = {**directives, "report-uri": report_uri}
    return "; ".join(f"{name} {value}" for name, value in directives.items())
