"""The audit loop (稽查闭环): plans, tasks, rectification, verification, assessment, penalties, audit trail.

Public entry points: ``open_store`` (case store), the actions in ``gridaudit.audit.actions``,
``gridaudit.audit.trail.verify_log``, ``gridaudit.audit.penalties.calculate``.
"""

from gridaudit.audit.errors import AuditError

__all__ = ["AuditError"]
