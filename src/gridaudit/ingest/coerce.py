"""SQL (DuckDB) expressions that turn a utility's text into contract types.

Forms accepted: dates 2024-01-31, 2024/1/31, 20240131, 2024年1月31日 (and a timestamp at midnight);
timestamps likewise with a time; periods 2024-01, 202401, 2024/1, 2024年1月; numbers with thousands
separators and full-width digits; blank -> NULL; domain labels through the contract's aliases.
Every expression is cheap on the common form (a plain ``TRY_CAST``) and tries the others only for
the rows that fail it (DuckDB evaluates ``COALESCE`` arguments lazily).
"""

from __future__ import annotations

from gridaudit.contract.spec import Column, load_contract

FULL_WIDTH = "０１２３４５６７８９．，－＋：／　"
HALF_WIDTH = "0123456789.,-+:/ "

DATE_FORMATS = ["%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日", "%Y.%m.%d", "%Y-%m-%d"]
TS_FORMATS = [
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d %H:%M",
    "%Y%m%d%H%M%S",
    "%Y%m%d %H:%M:%S",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日%H时%M分%S秒",
    "%Y年%m月%d日%H时%M分",
    "%Y.%m.%d %H:%M:%S",
] + DATE_FORMATS

TRUE_WORDS = ("true", "t", "1", "yes", "y", "是", "√")
FALSE_WORDS = ("false", "f", "0", "no", "n", "否", "×")


def lit(text: str) -> str:
    """Quote ``text`` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    """Quote ``name`` as a SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _list(items: list[str]) -> str:
    return "[" + ", ".join(lit(i) for i in items) + "]"


def blank(expr: str) -> str:
    """Trimmed text, NULL when blank (the raw value kept for messages). Trimming only the values that
    start or end with a space keeps the common case cheap."""
    x = f"CAST({expr} AS VARCHAR)"
    return f"CASE WHEN {x} LIKE ' %' OR {x} LIKE '% ' THEN nullif(trim({x}), '') ELSE nullif({x}, '') END"


def _first(fast: str, slow: str) -> str:
    """``fast`` if it is not NULL, else ``slow`` — evaluated only for the rows ``fast`` misses
    (DuckDB evaluates CASE branches lazily; COALESCE evaluates every argument)."""
    return f"CASE WHEN {fast} IS NOT NULL THEN {fast} ELSE {slow} END"


def _ascii(b: str) -> str:
    return f"translate({b}, {lit(FULL_WIDTH)}, {lit(HALF_WIDTH)})"


def number(b: str, sql_type: str = "DOUBLE") -> str:
    """A number from text: plain, thousands separators, full-width digits."""
    cleaned = f"replace(replace(replace({_ascii(b)}, ',', ''), '，', ''), ' ', '')"
    return _first(f"TRY_CAST({b} AS {sql_type})", f"TRY_CAST({cleaned} AS {sql_type})")


def date(b: str) -> str:
    """A date from text in the usual utility forms."""
    a = _ascii(b)
    slow = (
        f"coalesce(CAST(try_strptime({a}, {_list(DATE_FORMATS)}) AS DATE), "
        f"TRY_CAST(TRY_CAST({a} AS TIMESTAMP) AS DATE))"
    )
    return _first(f"TRY_CAST({b} AS DATE)", slow)


def timestamp(b: str) -> str:
    """A timestamp (no time zone) from text in the usual utility forms."""
    a = _ascii(b)
    return _first(f"TRY_CAST({b} AS TIMESTAMP)", f"try_strptime({a}, {_list(TS_FORMATS)})")


def period(b: str) -> str:
    """A billing month ``YYYY-MM`` from 2024-01, 202401, 2024/1, 2024年1月, 2024.01."""
    a = _ascii(b)
    pat = "'^(\\d{4})[-/年.]?(\\d{1,2})月?$'"
    y, m = f"regexp_extract({a}, {pat}, 1)", f"regexp_extract({a}, {pat}, 2)"
    return (
        f"CASE WHEN regexp_full_match({b}, '\\d{{4}}-(0[1-9]|1[0-2])') THEN {b} "
        f"WHEN TRY_CAST({m} AS INT) BETWEEN 1 AND 12 THEN {y} || '-' || lpad({m}, 2, '0') END"
    )


def boolean(b: str) -> str:
    """A boolean from yes/no words in English or Chinese."""
    return (
        f"CASE WHEN lower({b}) IN ({', '.join(lit(w) for w in TRUE_WORDS)}) THEN TRUE "
        f"WHEN lower({b}) IN ({', '.join(lit(w) for w in FALSE_WORDS)}) THEN FALSE END"
    )


def domain(b: str, domain_name: str, extra: dict[str, str] | None = None) -> str:
    """The canonical code for a label, through the domain's codes (any case) and aliases."""
    d = load_contract().domains[domain_name]
    labels = {v: v for v in d.values} | dict(d.aliases) | dict(extra or {})
    cases = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in labels.items())
    lower_cases = " ".join(f"WHEN {lit(v.lower())} THEN {lit(v)}" for v in d.values)
    return _first(f"CASE {b} {cases} END", f"CASE lower({b}) {lower_cases} END")


def typed(col: Column, b: str, source_type: str, extra_values: dict[str, str] | None = None) -> str:
    """The SQL giving ``col``'s contract type from the source value ``b`` (already blank-normalised text),
    or straight from the source column when it already has a compatible type (Parquet)."""
    st = source_type.upper()
    if col.domain:
        return domain(b, col.domain, extra_values)
    if col.type == "string":
        return b
    if col.type == "float":
        return number(b, "DOUBLE")
    if col.type == "int":
        return number(b, "BIGINT")
    if col.type == "date":
        return date(b)
    if col.type == "timestamp":
        return timestamp(b)
    if col.type == "period":
        return period(b)
    if col.type == "bool":
        return boolean(b)
    raise ValueError(f"no coercion for type {col.type} ({st})")


def native(col: Column, raw: str, source_type: str) -> str | None:
    """A direct cast when a typed source column (Parquet) already matches the contract type, else None."""
    st = source_type.upper()
    numeric = st in (
        "DOUBLE",
        "FLOAT",
        "BIGINT",
        "INTEGER",
        "SMALLINT",
        "TINYINT",
        "HUGEINT",
        "UBIGINT",
        "UINTEGER",
    ) or st.startswith("DECIMAL")
    if col.type == "float" and numeric:
        return f"CAST({raw} AS DOUBLE)"
    if col.type == "int" and numeric and not st.startswith(("DOUBLE", "FLOAT", "DECIMAL")):
        return f"CAST({raw} AS BIGINT)"
    if col.type == "date" and (st == "DATE" or st.startswith("TIMESTAMP")):
        return f"CAST({raw} AS DATE)"
    if col.type == "timestamp" and (st == "DATE" or st.startswith("TIMESTAMP")):
        return f"CAST({raw} AS TIMESTAMP)"
    if col.type == "bool" and st == "BOOLEAN":
        return raw
    return None
