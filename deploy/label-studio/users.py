"""Create the admin's organization members used by tests: annotators with known API tokens.

Run by ``start.sh`` with the Label Studio virtual environment's python, against the same data
directory and environment as the server (it opens the server's SQLite database through Django).
It is idempotent: re-running it against a kept data directory changes nothing that is already
right.

For every annotator ``i`` in ``1..IAA_LS_ANNOTATORS`` it makes sure that

- the user ``annotator{i}@iaa.local`` exists (password ``IAA_LS_PASSWORD``);
- the user is a member of the admin's organization, and that organization is its ACTIVE
  organization (Label Studio sends no webhook for the actions of a user without one);
- its legacy API token (``Authorization: Token ...``) is ``{IAA_LS_TOKEN_PREFIX}annotator{i}``.

It also makes sure that the admin's token is ``LABEL_STUDIO_USER_TOKEN`` (Label Studio applies it
only when it creates the admin) and that legacy tokens are enabled for the organization.

Prints one JSON object: ``{"organization": id, "admin": {...}, "annotators": [{...}, ...]}``.
Exits non-zero with a message naming what is missing when the admin does not exist yet.
"""

from __future__ import annotations

import json
import os
import pathlib
import sys


def _setup_django() -> None:
    """Load Label Studio's Django settings the way ``label_studio.server`` does."""
    import label_studio

    sys.path.insert(0, str(pathlib.Path(label_studio.__file__).parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "label_studio.core.settings.label_studio")
    import django

    django.setup()


def _require_env(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise SystemExit(f"users.py: environment variable {name} is empty; run me from start.sh")
    return value


def _set_token(user, key: str) -> None:
    """Give ``user`` exactly one legacy API token, ``key``."""
    from rest_framework.authtoken.models import Token

    if len(key) > 40:
        raise SystemExit(
            f"users.py: token {key!r} is longer than the 40 characters Label Studio keeps"
        )
    if Token.objects.filter(user=user, key=key).exists():
        return
    Token.objects.filter(user=user).delete()
    Token.objects.create(user=user, key=key)


def main() -> None:
    admin_email = _require_env("LABEL_STUDIO_USERNAME")
    admin_token = _require_env("LABEL_STUDIO_USER_TOKEN")
    password = _require_env("IAA_LS_PASSWORD")
    prefix = _require_env("IAA_LS_TOKEN_PREFIX")
    count = int(os.environ.get("IAA_LS_ANNOTATORS", "3"))
    if count < 0:
        raise SystemExit(f"users.py: IAA_LS_ANNOTATORS must be >= 0, got {count}")

    _setup_django()
    from django.db import OperationalError, transaction
    from organizations.models import Organization
    from users.models import User

    try:
        admin = User.objects.filter(email=admin_email).first()
    except OperationalError as exc:
        raise SystemExit(
            f"users.py: the database in LABEL_STUDIO_BASE_DATA_DIR="
            f"{os.environ.get('LABEL_STUDIO_BASE_DATA_DIR')} is not ready ({exc}); "
            "start the server first, it applies the migrations"
        ) from exc
    if admin is None:
        raise SystemExit(
            f"users.py: the admin {admin_email} does not exist; the server creates it at start "
            "from LABEL_STUDIO_USERNAME/LABEL_STUDIO_PASSWORD, so start the server first"
        )
    org = admin.active_organization or Organization.objects.first()
    if org is None:
        raise SystemExit(f"users.py: the admin {admin_email} has no organization")

    annotators = []
    with transaction.atomic():
        _set_token(admin, admin_token)
        if admin.active_organization_id != org.id:
            admin.active_organization = org
            admin.save(update_fields=["active_organization"])
        jwt_settings = getattr(org, "jwt", None)
        if jwt_settings is not None and not jwt_settings.legacy_api_tokens_enabled:
            jwt_settings.legacy_api_tokens_enabled = True
            jwt_settings.save()

        for i in range(1, count + 1):
            email = f"annotator{i}@iaa.local"
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User.objects.create_user(
                    email=email,
                    password=password,
                    username=f"annotator{i}",
                    first_name="Annotator",
                    last_name=str(i),
                )
            org.add_user(user)  # no-op for a member
            if user.active_organization_id != org.id:
                user.active_organization = org
                user.save(update_fields=["active_organization"])
            token = f"{prefix}annotator{i}"
            _set_token(user, token)
            annotators.append({"id": user.id, "email": email, "token": token})

    print(
        json.dumps(
            {
                "organization": org.id,
                "admin": {"id": admin.id, "email": admin_email, "token": admin_token},
                "annotators": annotators,
            }
        )
    )


if __name__ == "__main__":
    main()
