"""Migrate Argilla's database, then create the owner, the annotators and their workspace, with
known API keys (idempotent).

Run by start.sh with the Argilla venv's python before the server starts, against the database
named by ARGILLA_DATABASE_URL:

    IAA_ARGILLA_ANNOTATORS=3 IAA_ARGILLA_KEY_PREFIX=iaa-argilla-key- \\
    IAA_ARGILLA_PASSWORD=... IAA_ARGILLA_WORKSPACE=iaa python users.py

Users: ``owner`` (role owner) and ``annotator1`` ... ``annotatorN`` (role annotator), API keys
``{prefix}owner``, ``{prefix}annotator1``, ..., all members of the workspace. One process does
what ``python -m argilla_server database migrate`` and ``... database users create`` (once per
user) do, each of which costs a Python start-up of 3-7 s, and it also repairs an existing user's
API key, role and workspace membership.
"""

from __future__ import annotations

import asyncio
import os

import alembic.config
from argilla_server.contexts import accounts
from argilla_server.database import ALEMBIC_CONFIG_FILE, AsyncSessionLocal
from argilla_server.models import User, UserRole, Workspace, WorkspaceUser
from sqlalchemy import select


async def ensure_users(*, annotators: int, prefix: str, password: str, workspace_name: str) -> None:
    wanted = [("owner", UserRole.owner)] + [
        (f"annotator{i}", UserRole.annotator) for i in range(1, annotators + 1)
    ]
    async with AsyncSessionLocal() as db:
        workspace = await Workspace.get_by(db, name=workspace_name)
        if workspace is None:
            workspace = await Workspace.create(db, name=workspace_name)
        for username, role in wanted:
            api_key = f"{prefix}{username}"
            user = await User.get_by(db, username=username)
            if user is None:
                user = await User.create(
                    db,
                    first_name=username,
                    username=username,
                    role=role,
                    api_key=api_key,
                    password_hash=accounts.hash_password(password),
                )
                print(f"created {role.value} {username}")
            elif user.api_key != api_key or user.role != role:
                await user.update(db, api_key=api_key, role=role)
                print(f"updated {role.value} {username}")
            member = await db.scalar(
                select(WorkspaceUser).filter_by(workspace_id=workspace.id, user_id=user.id)
            )
            if member is None:
                await WorkspaceUser.create(db, workspace_id=workspace.id, user_id=user.id)
                print(f"added {username} to workspace {workspace_name}")


def main() -> None:
    # what `python -m argilla_server database migrate` runs
    alembic.config.main(argv=["-c", ALEMBIC_CONFIG_FILE, "upgrade", "head"])
    asyncio.run(
        ensure_users(
            annotators=int(os.environ.get("IAA_ARGILLA_ANNOTATORS", "3")),
            prefix=os.environ["IAA_ARGILLA_KEY_PREFIX"],
            password=os.environ["IAA_ARGILLA_PASSWORD"],
            workspace_name=os.environ.get("IAA_ARGILLA_WORKSPACE", "iaa"),
        )
    )


if __name__ == "__main__":
    main()
