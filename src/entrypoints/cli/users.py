"""`xsell users add|list|grant|revoke|set-role|set-password|add-client`: API users, roles and org grants."""

from __future__ import annotations

import sys

import click

from application.auth import (
    AddServiceClient,
    AddUser,
    GrantOrg,
    ListUsers,
    NewServiceClient,
    NewUser,
    RevokeOrg,
    SetPassword,
    UpdateUser,
    UserChange,
)
from domain.access import Role
from domain.user import ServiceClient, User
from entrypoints.cli.app import cli
from entrypoints.cli.runtime import run_command

__all__ = ["users"]

_ROLES = click.Choice([role.value for role in Role])


@cli.group()
def users() -> None:
    """Who may use the API: users with a role (admin, analyst, sales) and the orgs each may read.

    Passwords are asked for, or read from standard input with --password-stdin; never passed as an
    argument, where other users of the machine could see them.
    """


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@users.command("add")
@click.argument("email")
@click.option(
    "--role", type=_ROLES, required=True, help="admin sees every org; analyst and sales see granted orgs."
)
@click.option("--org", "orgs", multiple=True, help="Grant this org (repeat for several).")
@click.option("--name", help="Display name (default: the part of the email before @).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def add(email: str, role: str, orgs: tuple[str, ...], name: str | None, password_stdin: bool) -> None:
    """Create a user who signs in with EMAIL and a password."""
    new = NewUser(
        email=email,
        display_name=name or email.split("@")[0],
        role=Role(role),
        password=_password(password_stdin),
        org_ids=orgs,
    )
    user: User = run_command(AddUser, lambda use_case: use_case.execute(new))
    click.echo(f"user {user.email} added ({user.role.value}; orgs: {', '.join(sorted(user.org_ids)) or '-'})")


@users.command("list")
def list_() -> None:
    """Show every user with role, state and granted orgs (never a password)."""
    rows: list[User] = run_command(ListUsers, lambda use_case: use_case.execute())
    if not rows:
        click.echo("no users yet; add one with `xsell users add`")
        return
    click.echo(f"{'EMAIL':<34}{'ROLE':<9}{'STATE':<10}ORGS")
    for user in rows:
        orgs = "(all)" if user.role is Role.ADMIN else ", ".join(sorted(user.org_ids)) or "-"
        state = "active" if user.active else "disabled"
        click.echo(f"{user.email:<34}{user.role.value:<9}{state:<10}{orgs}")


@users.command("grant")
@click.argument("email")
@click.argument("org")
def grant(email: str, org: str) -> None:
    """Let the user read ORG's data."""
    user: User = run_command(GrantOrg, lambda use_case: use_case.execute(email, org))
    click.echo(f"{user.email} may read: {', '.join(sorted(user.org_ids))}")


@users.command("revoke")
@click.argument("email")
@click.argument("org")
def revoke(email: str, org: str) -> None:
    """Stop the user reading ORG's data (from the next request on)."""
    user: User = run_command(RevokeOrg, lambda use_case: use_case.execute(email, org))
    click.echo(f"{user.email} may read: {', '.join(sorted(user.org_ids)) or 'no org'}")


@users.command("set-role")
@click.argument("email")
@click.argument("role", type=_ROLES)
def set_role(email: str, role: str) -> None:
    """Change the user's role (from the next request on)."""
    change = UserChange(role=Role(role))
    user: User = run_command(UpdateUser, lambda use_case: use_case.execute(email, change))
    click.echo(f"{user.email} is now {user.role.value}")


@users.command("set-active")
@click.argument("email")
@click.argument("active", type=click.Choice(["yes", "no"]))
def set_active(email: str, active: str) -> None:
    """Enable (yes) or disable (no) the user; a disabled user is signed out at the next request."""
    change = UserChange(active=active == "yes")
    user: User = run_command(UpdateUser, lambda use_case: use_case.execute(email, change))
    click.echo(f"{user.email} is now {'active' if user.active else 'disabled'}")


@users.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def set_password(email: str, password_stdin: bool) -> None:
    """Replace the user's password; every session of the user ends."""
    password = _password(password_stdin)
    user: User = run_command(SetPassword, lambda use_case: use_case.execute(email, password))
    click.echo(f"password of {user.email} replaced; the user was signed out everywhere")


@users.command("add-client")
@click.argument("client_id")
@click.option("--role", type=_ROLES, required=True)
@click.option("--org", "orgs", multiple=True, help="Grant this org (repeat for several).")
@click.option("--name", help="What the client is (default: CLIENT_ID).")
def add_client(client_id: str, role: str, orgs: tuple[str, ...], name: str | None) -> None:
    """Register a service client for POST /api/v1/auth/token; its secret is printed this once only."""
    new = NewServiceClient(id=client_id, name=name or client_id, role=Role(role), org_ids=orgs)
    result: tuple[ServiceClient, str] = run_command(AddServiceClient, lambda use_case: use_case.execute(new))
    client, secret = result
    click.echo(f"service client {client.id} added ({client.role.value}); its secret (shown once):")
    click.echo(secret)
