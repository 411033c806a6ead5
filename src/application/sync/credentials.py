"""Sealing and opening an org's credentials: every secret encrypted together, bound to the org id."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

from application.ports.crm import OrgCredentials
from application.ports.secret_box import SecretBox
from application.ports.sync import SealedCredentials

__all__ = ["open_credentials", "seal_credentials"]


def seal_credentials(
    box: SecretBox, org_id: str, credentials: OrgCredentials, now: datetime
) -> SealedCredentials:
    return SealedCredentials(
        org_id=org_id,
        flow=credentials.flow,
        login_url=credentials.login_url,
        username=credentials.username,
        client_id=credentials.client_id,
        sealed=box.seal(json.dumps(dict(credentials.secrets), sort_keys=True), bound_to=org_id),
        updated_at=now,
    )


def open_credentials(box: SecretBox, sealed: SealedCredentials) -> OrgCredentials:
    """Raises whatever the SecretBox raises when the ciphertext was moved, altered or its key dropped."""
    secrets: Mapping[str, str] = json.loads(box.open(sealed.sealed, bound_to=sealed.org_id))
    return OrgCredentials(
        flow=sealed.flow,
        login_url=sealed.login_url,
        username=sealed.username,
        client_id=sealed.client_id,
        secrets=dict(secrets),
    )
