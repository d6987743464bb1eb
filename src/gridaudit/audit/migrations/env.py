"""Alembic environment of the case store: always run programmatically with a connection
(``config.attributes['connection']``), never from an alembic.ini."""

from __future__ import annotations

from alembic import context

from gridaudit.audit import web_models  # noqa: F401 - its tables join Base.metadata
from gridaudit.audit.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, version_table="audit_alembic_version")
with context.begin_transaction():
    context.run_migrations()
