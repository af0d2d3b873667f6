"""forms deployed with their process version

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa
from alembic import op

from forms.registry import FORMS_DIR

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_definition = sa.table("process_definition", sa.column("id"), sa.column("key"), sa.column("kind"))
_version = sa.table(
    "process_version",
    sa.column("id"),
    sa.column("definition_id"),
    sa.column("content"),
    sa.column("content_hash"),
    sa.column("forms_json"),
)


def upgrade() -> None:
    with op.batch_alter_table("process_version", schema=None) as batch_op:
        batch_op.add_column(sa.Column("forms_json", sa.Text(), nullable=True))
    # Versions deployed before this revision kept no forms: the forms/ files as they are
    # now are the best truth there is for them. Their content hash then covers the
    # forms too, as a deployment's does from now on, so an unchanged folder stays
    # unchanged at the next `flowdesk serve`.
    package = _package_forms()
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(_version.c.id, _version.c.content, _definition.c.key)
        .join(_definition, _definition.c.id == _version.c.definition_id)
        .where(_definition.c.kind == "bpmn", _version.c.forms_json.is_(None))
    ).all()
    for version_id, content, key in rows:
        forms = package.get(key)
        if forms is None:
            continue
        bind.execute(
            sa.update(_version)
            .where(_version.c.id == version_id)
            .values(
                forms_json=forms.decode("utf-8"),
                content_hash=_hash(content.encode("utf-8"), forms),
            )
        )


def downgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(_version.c.id, _version.c.content).where(_version.c.forms_json.is_not(None))
    ).all()
    for version_id, content in rows:
        bind.execute(
            sa.update(_version)
            .where(_version.c.id == version_id)
            .values(content_hash=hashlib.sha256(content.encode("utf-8")).hexdigest())
        )
    with op.batch_alter_table("process_version", schema=None) as batch_op:
        batch_op.drop_column("forms_json")


def _package_forms() -> dict[str, bytes]:
    """Return each forms file of the forms/ folder by the process it names."""
    found: dict[str, bytes] = {}
    for path in sorted(FORMS_DIR.glob("*.json")):
        content = path.read_bytes()
        process = json.loads(content.decode("utf-8")).get("process")
        if isinstance(process, str):
            found.setdefault(process, content)
    return found


def _hash(content: bytes, forms: bytes) -> str:
    """engine.definitions.content_hash as of this revision (a migration never changes)."""
    digest = hashlib.sha256(content)
    digest.update(b"\0forms\0")
    digest.update(forms)
    return digest.hexdigest()
