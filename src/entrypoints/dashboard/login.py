"""The sign-in page: email and password, exchanged at the API for tokens kept on the server."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import panel as pn

from entrypoints.dashboard.api import ApiError, ApiSession

__all__ = ["LoginPage"]


class LoginPage:
    """Signs the session's ApiSession in, then calls `on_signed_in`; a failure shows one line."""

    def __init__(
        self, api: ApiSession, on_signed_in: Callable[[], Awaitable[None]], notice: str = ""
    ) -> None:
        self._api = api
        self._on_signed_in = on_signed_in
        self.email = pn.widgets.TextInput(name="Email", placeholder="you@example.com", width=320)
        self.password = pn.widgets.PasswordInput(name="Password", placeholder="Password", width=320)
        self.submit = pn.widgets.Button(name="Sign in", button_type="primary", width=320)
        self.message = pn.pane.Alert(notice, alert_type="danger", visible=bool(notice), width=320)
        self.submit.on_click(self._sign_in)
        self.view = pn.Column(
            pn.pane.Markdown("## Sign in to xsell"),
            self.email,
            self.password,
            self.submit,
            self.message,
            css_classes=["xsell-login"],
        )

    async def _sign_in(self, _event: Any = None) -> None:
        # value_input follows each keystroke; value only changes on blur or Enter.
        email = (self.email.value_input or self.email.value or "").strip()
        password = self.password.value_input or self.password.value or ""
        self.message.visible = False
        if not email or not password:
            self._say("Enter your email and password.")
            return
        self.submit.loading = True
        try:
            await self._api.sign_in(email, password)
        except ApiError as exc:
            self._say(str(exc))
            return
        finally:
            self.submit.loading = False
            # The password stays on the server no longer than the sign-in takes.
            self.password.value = self.password.value_input = ""
        await self._on_signed_in()

    def _say(self, line: str) -> None:
        self.message.object = line
        self.message.visible = True
