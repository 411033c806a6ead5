"""Logins and sessions: the OAuth token endpoint (password, client credentials, JWT bearer), SOAP login,
and the registry of issued access tokens with their lifetime."""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from simulators.salesforce.errors import InvalidSessionError, OAuthError, SoapLoginError
from simulators.salesforce.org import ConnectedApp, FakeOrg, FakeUser

__all__ = ["Session", "TokenRegistry", "oauth_token", "soap_login"]

_JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    org: FakeOrg
    user: FakeUser
    expires_at: float


class TokenRegistry:
    """Issued access tokens; each is valid for `lifetime_s` seconds unless its org's tokens are revoked."""

    def __init__(self, lifetime_s: float = 7200.0) -> None:
        self.lifetime_s = lifetime_s
        self._sessions: dict[str, Session] = {}

    def issue(self, org: FakeOrg, user: FakeUser) -> Session:
        token = f"{org.org_id_15}!AQ{secrets.token_urlsafe(24)}"
        session = Session(token, org, user, time.monotonic() + self.lifetime_s)
        self._sessions[token] = session
        return session

    def check(self, token: str) -> Session:
        session = self._sessions.get(token)
        if session is None:
            raise InvalidSessionError()
        if time.monotonic() >= session.expires_at:
            del self._sessions[token]
            raise InvalidSessionError()
        return session

    def revoke_org(self, org: FakeOrg) -> None:
        for token in [token for token, session in self._sessions.items() if session.org is org]:
            del self._sessions[token]


def _token_body(session: Session, issued_ms: int) -> dict[str, Any]:
    org, user = session.org, session.user
    signature = base64.b64encode(secrets.token_bytes(32)).decode()
    return {
        "access_token": session.token,
        "instance_url": org.instance_url,
        "id": f"https://login.salesforce.com/id/{org.org_id}/{user.id}",
        "token_type": "Bearer",
        "issued_at": str(issued_ms),
        "signature": signature,
        "scope": "api",
    }


def _find_app(orgs: Iterable[FakeOrg], client_id: str) -> tuple[FakeOrg, ConnectedApp]:
    for org in orgs:
        app = org.app_by_client_id(client_id)
        if app is not None:
            return org, app
    raise OAuthError("invalid_client_id", "client identifier invalid")


def _password_matches(user: FakeUser, given: str) -> bool:
    return secrets.compare_digest(given, user.password) or secrets.compare_digest(
        given, user.password + user.security_token
    )


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _verify_assertion(orgs: Iterable[FakeOrg], assertion: str) -> tuple[FakeOrg, FakeUser]:
    try:
        head, body, signature = assertion.split(".")
        header = json.loads(_b64url(head))
        claims = json.loads(_b64url(body))
        signed = _b64url(signature)
    except (ValueError, binascii.Error):
        raise OAuthError("invalid_grant", "invalid assertion") from None
    if not isinstance(header, dict) or header.get("alg") != "RS256" or not isinstance(claims, dict):
        raise OAuthError("invalid_grant", "invalid assertion")
    org, app = _find_app(orgs, str(claims.get("iss", "")))
    public_key = serialization.load_pem_public_key(app.public_key_pem)
    assert isinstance(public_key, rsa.RSAPublicKey)
    try:
        public_key.verify(signed, f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise OAuthError("invalid_grant", "invalid assertion") from None
    audiences = {
        "https://login.salesforce.com",
        "https://test.salesforce.com",
        f"https://{org.my_domain}.salesforce.com",
        org.instance_url,
    }
    if claims.get("aud") not in audiences:
        raise OAuthError("invalid_grant", "audience is invalid")
    try:
        # simple-salesforce sends exp as a string of seconds; the JWT spec says a number. Accept both.
        expires = float(claims.get("exp", 0))
    except (TypeError, ValueError):
        raise OAuthError("invalid_grant", "invalid assertion") from None
    if expires < time.time():
        raise OAuthError("invalid_grant", "expired authorization code")
    user = org.user_named(str(claims.get("sub", "")))
    if user is None:
        raise OAuthError("invalid_grant", "user hasn't approved this consumer")
    return org, user


def oauth_token(
    orgs: list[FakeOrg], form: Mapping[str, str], authorization: str, tokens: TokenRegistry
) -> dict[str, Any]:
    """Handle `POST /services/oauth2/token`; `orgs` are the orgs this host may log in to."""
    grant = form.get("grant_type", "")
    if grant == "password":
        org, app = _find_app(orgs, form.get("client_id", ""))
        if not secrets.compare_digest(form.get("client_secret", ""), app.client_secret):
            raise OAuthError("invalid_client", "invalid client credentials")
        user = org.user_named(form.get("username", ""))
        if user is None or not _password_matches(user, form.get("password", "")):
            raise OAuthError("invalid_grant", "authentication failure")
    elif grant == "client_credentials":
        client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        if authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:]).decode()
            except (binascii.Error, UnicodeDecodeError):
                raise OAuthError("invalid_client", "invalid client credentials") from None
            client_id, _, client_secret = decoded.partition(":")
        org, app = _find_app(orgs, client_id)
        if not secrets.compare_digest(client_secret, app.client_secret):
            raise OAuthError("invalid_client", "invalid client credentials")
        found = org.user_by_id(app.run_as_user_id) if app.run_as_user_id else None
        if found is None:
            raise OAuthError("invalid_grant", "no client credentials user enabled")
        user = found
    elif grant == _JWT_GRANT:
        org, user = _verify_assertion(orgs, form.get("assertion", ""))
    else:
        raise OAuthError("unsupported_grant_type", "grant type not supported")
    session = tokens.issue(org, user)
    return _token_body(session, int(time.time() * 1000))


_SOAP_FIELD = re.compile(r"<(?:\w+:)?(username|password|organizationId)>(.*?)</(?:\w+:)?\1>", re.DOTALL)


def soap_login(orgs: list[FakeOrg], body: str, version: str, tokens: TokenRegistry) -> str:
    """Handle the partner SOAP `login` call; returns the response envelope or raises SoapLoginError."""
    found = {key: html.unescape(value) for key, value in _SOAP_FIELD.findall(body)}
    username, password = found.get("username", ""), found.get("password", "")
    scope = found.get("organizationId")
    for org in orgs:
        if scope and scope[:15] != org.org_id_15:
            continue
        user = org.user_named(username)
        if user is not None and _password_matches(user, password):
            session = tokens.issue(org, user)
            return _soap_success(session, version, tokens.lifetime_s)
    raise SoapLoginError("INVALID_LOGIN", "Invalid username, password, security token; or user locked out.")


def _soap_success(session: Session, version: str, lifetime_s: float) -> str:
    org, user = session.org, session.user
    server = f"{org.instance_url}/services/Soap/u/{version}/{org.org_id_15}"
    metadata = f"{org.instance_url}/services/Soap/m/{version}/{org.org_id_15}"
    esc = html.escape
    return (
        '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
        'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><loginResponse><result>'
        f"<metadataServerUrl>{esc(metadata)}</metadataServerUrl><passwordExpired>false</passwordExpired>"
        f"<sandbox>false</sandbox><serverUrl>{esc(server)}</serverUrl><sessionId>{esc(session.token)}</sessionId>"
        f"<userId>{user.id}</userId><userInfo><accessibilityMode>false</accessibilityMode>"
        f"<currencySymbol>$</currencySymbol><orgDefaultCurrencyIsoCode>{org.data.currency}"
        "</orgDefaultCurrencyIsoCode><orgHasPersonAccounts>false</orgHasPersonAccounts>"
        f"<organizationId>{org.org_id}</organizationId><organizationMultiCurrency>"
        f"{'true' if org.data.multi_currency else 'false'}</organizationMultiCurrency>"
        f"<organizationName>{esc(org.name)}</organizationName><profileId>00e000000000001AAA</profileId>"
        '<roleId xsi:nil="true"/>'
        f"<sessionSecondsValid>{int(lifetime_s)}</sessionSecondsValid>"
        f"<userEmail>{esc(user.email)}</userEmail><userFullName>{esc(user.first_name)} {esc(user.last_name)}"
        f"</userFullName><userId>{user.id}</userId><userLanguage>en_US</userLanguage>"
        f"<userLocale>en_US</userLocale><userName>{esc(user.username)}</userName>"
        "<userTimeZone>America/Los_Angeles</userTimeZone><userType>Standard</userType>"
        "</userInfo></result></loginResponse></soapenv:Body></soapenv:Envelope>"
    )


def soap_fault(error: SoapLoginError) -> str:
    esc = html.escape
    return (
        '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
        'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:sf="urn:fault.partner.soap.sforce.com" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault>'
        f"<faultcode>{esc(error.code)}</faultcode>"
        f"<faultstring>{esc(error.code)}: {esc(error.message)}</faultstring>"
        '<detail><sf:LoginFault xsi:type="sf:LoginFault">'
        f"<sf:exceptionCode>{esc(error.code)}</sf:exceptionCode>"
        f"<sf:exceptionMessage>{esc(error.message)}</sf:exceptionMessage></sf:LoginFault></detail>"
        "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
