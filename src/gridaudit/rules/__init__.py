"""The SQL rule catalog: a loader, a runner and a fixture harness; the rules themselves are data.

A rule is ``catalog/<family>/<rule_id>.sql``: a YAML header in a ``/*--- ... ---*/`` comment and one
SELECT in the DuckDB dialect returning the findings shape (see ``/work/briefs/rule_format.md``).
"""

from gridaudit.rules.loader import Rule, RuleError, load_catalog, load_rule

__all__ = ["Rule", "RuleError", "load_catalog", "load_rule"]
