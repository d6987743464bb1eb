"""``python -m gridaudit`` runs the CLI."""

from gridaudit.cli import run

run()
