"""Findings: one shape for every analyzer and one store per dataset (DESIGN §5).

``shape``: the table layout, stable ids, Parquet files. ``store``: each analyzer run appended to
``<dataset>/findings/`` with its provenance. ``pricing``: ¥ at stake for every finding, applied on append.
``query``: the filters and summaries the CLI and the web app share. ``cli``: ``gridaudit findings``.
"""

from gridaudit.findings.shape import (
    ENTITY_TYPES,
    FAMILIES,
    FINDINGS_SCHEMA,
    SEVERITIES,
    evidence_json,
    finding_id,
    findings_table,
    read_findings,
    write_findings,
)
from gridaudit.findings.store import (
    FindingsStoreError,
    RunInfo,
    RunProvenance,
    append_run,
    get_run,
    latest_runs,
    list_runs,
    load_findings,
    select_runs,
)

__all__ = [
    "ENTITY_TYPES",
    "FAMILIES",
    "FINDINGS_SCHEMA",
    "SEVERITIES",
    "FindingsStoreError",
    "RunInfo",
    "RunProvenance",
    "append_run",
    "evidence_json",
    "finding_id",
    "findings_table",
    "get_run",
    "latest_runs",
    "list_runs",
    "load_findings",
    "read_findings",
    "select_runs",
    "write_findings",
]
