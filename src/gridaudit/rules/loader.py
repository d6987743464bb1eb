"""Load rule files: parse the ``/*--- yaml ---*/`` header, validate it with pydantic, keep the SQL."""

from __future__ import annotations

import re
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gridaudit.contract import load_contract
from gridaudit.findings import ENTITY_TYPES, FAMILIES, SEVERITIES
from gridaudit.i18n import both
from gridaudit.rules.outputs import (  # noqa: F401 - the output contract, re-exported for rule tooling
    EVIDENCE_PREFIX,
    REQUIRED_OUTPUTS,
    RULE_OUTPUTS,
    RUNNER_FILLED,
    OutputError,
    check_outputs,
    output_columns,
)
from gridaudit.rules.safety import UnsafeSQL, parse_rule_sql
from gridaudit.rules.window import LookbackSpec, check_lookback_params

HEADER = re.compile(r"^\s*/\*---\s*\n(?P<yaml>.*?)\n---\*/\s*\n(?P<sql>.*)$", re.S)
PARAM_TYPES = {"float": float, "int": int, "str": str, "bool": bool, "date": date}
RUNNER_PARAMS = ("period",)
DERIVED_DIR = "_derived"
TEMPLATE_SUFFIX = ".template.sql"
INSTANCE_KEYS = (
    "id", "title", "severity", "params", "fixed", "description", "basis", "truth_kinds", "tables", "derived",
    "lookback",
)  # fmt: skip


class RuleError(Exception):
    """A rule file that cannot be loaded (bad header, bad SQL), naming the file and the field."""


class Text(BaseModel):
    """A text in Chinese and English; both must be non-empty."""

    model_config = ConfigDict(extra="forbid")
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Param(BaseModel):
    """A rule parameter: its type, default and documentation."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["float", "int", "str", "bool", "date"]
    default: Any
    doc: Text

    def coerce(self, value: Any) -> Any:
        """Convert ``value`` (e.g. a string from ``--set``) to this parameter's type."""
        if value is None:
            return None
        if self.type == "bool":
            if isinstance(value, str):
                low = value.strip().lower()
                if low not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError(f"not a boolean: {value!r}")
                return low in ("true", "1", "yes")
            return bool(value)
        if self.type == "date":
            return value if isinstance(value, date) else date.fromisoformat(str(value))
        if self.type == "int" and isinstance(value, float) and not value.is_integer():
            raise ValueError(f"not an integer: {value!r}")
        return PARAM_TYPES[self.type](value)


class Header(BaseModel):
    """The metadata header of a rule file."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: Text
    family: str
    severity: str
    entity_type: str
    tables: list[str] = Field(min_length=1)
    derived: list[str] = Field(default_factory=list)
    params: dict[str, Param] = Field(default_factory=dict)
    description: Text
    basis: str = ""
    truth_kinds: list[str] = Field(default_factory=list)
    # values bound as $name like params but not settable with --set: what tells template instances apart
    fixed: dict[str, str | int | float | bool] = Field(default_factory=dict)
    # data before the run's period the rule reads (rules/window.py); None (not declared) reads everything
    lookback: LookbackSpec = None

    @model_validator(mode="after")
    def _lookback(self) -> Header:
        check_lookback_params(self.lookback, self.params)
        return self

    @field_validator("fixed")
    @classmethod
    def _fixed(cls, v: dict[str, Any], info: Any) -> dict[str, Any]:
        for name in v:
            if name in RUNNER_PARAMS:
                raise ValueError(f"fixed value {name!r} is bound by the runner; do not declare it")
            if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                raise ValueError(f"fixed value name {name!r} must be snake_case")
            if name in (info.data.get("params") or {}):
                raise ValueError(f"{name!r} is both a param and a fixed value")
        return v

    @field_validator("family")
    @classmethod
    def _family(cls, v: str) -> str:
        if v not in FAMILIES:
            raise ValueError(f"family {v!r} is not one of {', '.join(FAMILIES)}")
        return v

    @field_validator("severity")
    @classmethod
    def _severity(cls, v: str) -> str:
        if v not in SEVERITIES:
            raise ValueError(f"severity {v!r} is not one of {', '.join(SEVERITIES)}")
        return v

    @field_validator("entity_type")
    @classmethod
    def _entity(cls, v: str) -> str:
        if v not in ENTITY_TYPES:
            raise ValueError(f"entity_type {v!r} is not one of {', '.join(ENTITY_TYPES)}")
        return v

    @field_validator("tables")
    @classmethod
    def _tables(cls, v: list[str]) -> list[str]:
        known = load_contract().tables
        bad = [t for t in v if t not in known]
        if bad:
            raise ValueError(f"tables {bad} are not contract tables ({', '.join(known)})")
        return v

    @field_validator("params")
    @classmethod
    def _params(cls, v: dict[str, Param]) -> dict[str, Param]:
        for name, p in v.items():
            if name in RUNNER_PARAMS:
                raise ValueError(f"param {name!r} is bound by the runner; do not declare it")
            if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                raise ValueError(f"param name {name!r} must be snake_case")
            try:
                p.default = p.coerce(p.default)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"param {name}: default {p.default!r} is not a {p.type}: {exc}") from None
        return v


class DerivedHeader(BaseModel):
    """The metadata header of a derived table (``catalog/_derived/<id>.sql``): no params, no findings shape."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: Text
    tables: list[str] = Field(min_length=1)
    derived: list[str] = Field(default_factory=list)
    # data the table needs before the first row a rule reads (e.g. the previous reading); None reads everything
    lookback: LookbackSpec = None
    # the output column a rule's window is cut on (rules read only their own months of the table)
    window_column: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]*$")
    window_kind: Literal["date", "timestamp", "month"] = "date"

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if v in load_contract().tables:
            raise ValueError(f"derived table {v!r} would hide the contract table of that name")
        return v

    @field_validator("tables")
    @classmethod
    def _tables(cls, v: list[str]) -> list[str]:
        return Header._tables(v)


class Derived(BaseModel):
    """A derived table: one SELECT over contract tables that the runner materialises once per run."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)
    header: DerivedHeader
    sql: str
    path: Path

    @property
    def id(self) -> str:
        """The derived table's name (the file stem)."""
        return self.header.id


class Rule(BaseModel):
    """A loaded rule: its header, SQL text, the file it came from and the derived tables it reads.

    ``needs`` holds every derived table the rule reads, directly or through another derived table,
    dependencies first.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)
    header: Header
    sql: str
    path: Path
    needs: tuple[Derived, ...] = ()
    replaces: Path | None = None  # the file of the rule with this id that an extra catalog replaced

    @property
    def id(self) -> str:
        """The rule id (the file stem)."""
        return self.header.id

    @property
    def family(self) -> str:
        """The rule family (the folder name)."""
        return self.header.family

    @property
    def all_tables(self) -> list[str]:
        """Contract tables the rule reads, directly or through its derived tables (declared order, no repeats)."""
        out = list(self.header.tables)
        for d in self.needs:
            out += [t for t in d.header.tables if t not in out]
        return out

    def bind(self, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """Parameter values: the defaults, with ``overrides`` (coerced to the declared types) applied."""
        values = {name: p.default for name, p in self.header.params.items()} | dict(self.header.fixed)
        for name, value in (overrides or {}).items():
            if name in self.header.fixed:
                raise RuleError(
                    both(
                        f"规则 {self.id} 的 {name} 由模板实例固定，不能用 --set 修改",
                        f"rule {self.id}: {name} is fixed by its template instance and cannot be set",
                    )
                )
            if name not in self.header.params:
                raise RuleError(
                    both(
                        f"规则 {self.id} 没有参数 {name}（可用：{', '.join(self.header.params) or '无'}）",
                        f"rule {self.id} has no parameter {name} (known: {', '.join(self.header.params) or 'none'})",
                    )
                )
            try:
                values[name] = self.header.params[name].coerce(value)
            except (TypeError, ValueError) as exc:
                raise RuleError(
                    both(f"规则 {self.id} 参数 {name} 取值无效：{exc}", f"rule {self.id} param {name}: {exc}")
                ) from None
        return values


def builtin_catalog() -> Path:
    """The folder of the catalog shipped with gridaudit."""
    return Path(str(resources.files("gridaudit.rules").joinpath("catalog")))


def _split(path: Path) -> tuple[Any, str]:
    """The parsed YAML header and the SQL of a catalog file."""
    text = path.read_text("utf-8")
    m = HEADER.match(text)
    if not m:
        raise RuleError(
            both(f"{path}: 缺少 /*--- ... ---*/ 元数据头", f"{path}: missing the /*--- ... ---*/ metadata header")
        )
    try:
        raw = yaml.safe_load(m.group("yaml"))
    except yaml.YAMLError as exc:
        raise RuleError(
            both(f"{path}: 元数据头 YAML 无效：{exc}", f"{path}: header is not valid YAML: {exc}")
        ) from None
    sql = m.group("sql").strip().rstrip(";").strip()
    if not sql:
        raise RuleError(both(f"{path}: 没有 SQL", f"{path}: no SQL after the header"))
    return raw, sql


def _validate(model: type[BaseModel], raw: Any, path: Path) -> Any:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(x) for x in e['loc']) or 'header'}: {e['msg']}" for e in exc.errors())
        raise RuleError(both(f"{path}: 元数据头有误：{problems}", f"{path}: bad header: {problems}")) from None


def _check_stem(rule_id: str, path: Path) -> None:
    """A rule or derived table file is named after its id."""
    if rule_id != path.stem:
        raise RuleError(both(f"{path}: id {rule_id} 与文件名不一致", f"{path}: id {rule_id} must equal the file stem"))


def _check_family(family: str, path: Path) -> None:
    """A rule (or template) file lies in the folder of its family."""
    if family != path.parent.name:
        raise RuleError(
            both(
                f"{path}: family {family} 与所在目录 {path.parent.name} 不一致",
                f"{path}: family {family} must equal its folder {path.parent.name}",
            )
        )


def check_rule_query(sql: str, path: Path) -> list[str]:
    """Check a rule's SQL when it loads: one SELECT/WITH query whose output columns fit the findings shape.

    Errors (RuleError) name the file and the column; returns the output column names. What the query may
    read and call (the sandbox) is checked by the runner before each run, so that a refused rule is reported
    on its own while the others run, and by ``rules check``.
    """
    try:
        return check_outputs(parse_rule_sql(sql))
    except (UnsafeSQL, OutputError) as exc:
        raise RuleError(f"{path}: {exc}") from None


def load_derived(path: str | Path) -> Derived:
    """Load one derived-table file (``_derived/<id>.sql``); the id must equal the file stem."""
    path = Path(path)
    raw, sql = _split(path)
    header = _validate(DerivedHeader, raw, path)
    _check_stem(header.id, path)
    return Derived(header=header, sql=sql, path=path)


def derived_tables(folders: list[Path]) -> dict[str, Derived]:
    """Derived tables declared in ``<folder>/_derived/*.sql`` of each catalog folder (a later one replaces)."""
    found: dict[str, Derived] = {}
    for folder in folders:
        for path in sorted((Path(folder) / DERIVED_DIR).glob("*.sql")):
            d = load_derived(path)
            found[d.id] = d
    return found


def resolve_needs(names: list[str], known: dict[str, Derived], where: Path) -> tuple[Derived, ...]:
    """The derived tables ``names`` read, with the ones they read in turn, dependencies first."""
    order: list[Derived] = []

    def visit(name: str, trail: tuple[str, ...]) -> None:
        if name in trail:
            raise RuleError(
                both(
                    f"{where}: 派生表循环引用：{' → '.join(trail + (name,))}",
                    f"{where}: derived tables loop: " + " → ".join(trail + (name,)),
                )
            )
        if name not in known:
            raise RuleError(
                both(
                    f"{where}: 未知派生表 {name}（可用：{', '.join(sorted(known)) or '无'}）",
                    f"{where}: unknown derived table {name} (known: {', '.join(sorted(known)) or 'none'})",
                )
            )
        d = known[name]
        for dep in d.header.derived:
            visit(dep, trail + (name,))
        if d not in order:
            order.append(d)

    for n in names:
        visit(n, ())
    return tuple(order)


def load_rule(path: str | Path, derived: dict[str, Derived] | None = None) -> Rule:
    """Load one rule file; the id must equal the file stem and the family the folder name.

    ``derived`` is the set of derived tables the rule may name; by default the built-in ones plus those in
    the ``_derived`` folder of the rule's own catalog.
    """
    path = Path(path)
    raw, sql = _split(path)
    header = _validate(Header, raw, path)
    _check_stem(header.id, path)
    _check_family(header.family, path)
    if derived is None and header.derived:
        derived = derived_tables([builtin_catalog(), path.parent.parent])
    needs = resolve_needs(header.derived, derived or {}, path)
    check_rule_query(sql, path)
    return Rule(header=header, sql=sql, path=path, needs=needs)


def rule_files(folder: Path) -> list[Path]:
    """Rule files under ``folder`` (``<family>/<rule_id>.sql``), sorted; ``_derived`` (any ``_`` folder) holds none."""
    return sorted(
        p
        for p in Path(folder).glob("*/*.sql")
        if p.is_file() and not p.parent.name.startswith("_") and not p.name.endswith(TEMPLATE_SUFFIX)
    )


def template_files(folder: Path) -> list[Path]:
    """Rule template files under ``folder`` (``<family>/<name>.template.sql``), sorted."""
    return sorted(p for p in Path(folder).glob(f"*/*{TEMPLATE_SUFFIX}") if not p.parent.name.startswith("_"))


def load_template(path: str | Path, derived: dict[str, Derived] | None = None) -> list[Rule]:
    """Load a rule template: one SQL and a list of ``instances``, each a rule with its own id and metadata.

    The header holds the fields every instance shares (family, entity_type, tables, params with their types
    and docs, ...) plus ``template: <file name without .template.sql>`` and ``instances``. An instance gives
    its ``id``, ``title``, ``severity``, ``description`` and may override ``basis``, ``truth_kinds``,
    ``tables``, ``derived`` and, per shared parameter, its ``default`` (or ``doc``). Each instance is then
    validated exactly like a rule file's header.
    """
    path = Path(path)
    raw, sql = _split(path)
    name = path.name[: -len(TEMPLATE_SUFFIX)]
    where = f"{path}: "
    if not isinstance(raw, dict) or raw.get("template") != name or not isinstance(raw.get("instances"), list):
        raise RuleError(
            both(
                f"{where}模板需要 template: {name} 与 instances 列表",
                f"{where}a template needs 'template: {name}' and a list of instances",
            )
        )
    check_rule_query(sql, path)
    common = {k: v for k, v in raw.items() if k not in ("template", "instances")}
    shared_params = common.get("params") or {}
    if derived is None:
        derived = derived_tables([builtin_catalog(), path.parent.parent])
    rules = []
    for i, inst in enumerate(raw["instances"], 1):
        if not isinstance(inst, dict) or "id" not in inst:
            raise RuleError(both(f"{where}第 {i} 个实例缺少 id", f"{where}instance {i} has no id"))
        unknown = sorted(set(inst) - set(INSTANCE_KEYS))
        if unknown:
            raise RuleError(
                both(
                    f"{where}实例 {inst['id']} 有未知字段 {unknown}",
                    f"{where}instance {inst['id']}: unknown keys {unknown}",
                )
            )
        params = {n: dict(p) if isinstance(p, dict) else p for n, p in shared_params.items()}
        for pname, change in (inst.get("params") or {}).items():
            if pname not in params or not isinstance(change, dict) or set(change) - {"default", "doc"}:
                raise RuleError(
                    both(
                        f"{where}实例 {inst['id']} 只能改模板已声明参数的 default/doc：{pname}",
                        f"{where}instance {inst['id']} may only change default/doc of a template param: {pname}",
                    )
                )
            params[pname].update(change)
        merged = {**common, **{k: v for k, v in inst.items() if k != "params"}, "params": params}
        header = _validate(Header, merged, Path(f"{path} [{inst['id']}]"))
        _check_family(header.family, path)
        rules.append(Rule(header=header, sql=sql, path=path, needs=resolve_needs(header.derived, derived, path)))
    ids = [r.id for r in rules]
    if len(set(ids)) != len(ids):
        raise RuleError(both(f"{where}实例 id 重复", f"{where}instance ids repeat"))
    return rules


def load_catalog(extra: list[str | Path] | None = None, builtin: bool = True) -> list[Rule]:
    """Load the built-in catalog plus extra catalog folders; a later rule with the same id replaces an earlier one.

    A replacing rule keeps the file it replaced in ``Rule.replaces`` (``replacement_notes`` words it).
    """
    folders = ([builtin_catalog()] if builtin else []) + [Path(e) for e in (extra or [])]
    for folder in folders:
        if not folder.is_dir():
            raise RuleError(both(f"规则目录不存在：{folder}", f"rule catalog folder not found: {folder}"))
    derived = derived_tables(folders)
    rules: dict[str, Rule] = {}
    for folder in folders:
        found = [load_rule(path, derived) for path in rule_files(folder)]
        for path in template_files(folder):
            found += load_template(path, derived)
        seen: dict[str, Path] = {}
        for rule in found:
            if rule.id in seen:
                raise RuleError(
                    both(
                        f"规则 id {rule.id} 重复：{seen[rule.id]} 与 {rule.path}",
                        f"rule id {rule.id} is defined twice: {seen[rule.id]} and {rule.path}",
                    )
                )
            seen[rule.id] = rule.path
            if rule.id in rules:
                rule = rule.model_copy(update={"replaces": rules[rule.id].path})
            rules[rule.id] = rule
    return sorted(rules.values(), key=lambda r: (r.family, r.id))


def replacement_notes(rules: list[Rule]) -> list[str]:
    """One warning line per rule that replaces a rule of the same id from an earlier catalog, naming both files."""
    return [
        both(
            f"规则 {r.id}：{r.path} 替换了 {r.replaces}",
            f"rule {r.id}: {r.path} replaces {r.replaces}",
        )
        for r in rules
        if r.replaces is not None
    ]


def select_rules(rules: list[Rule], only: list[str] | None = None, family: str | None = None) -> list[Rule]:
    """Filter rules by id list and/or family; unknown ids are an error naming them."""
    if only:
        known = {r.id for r in rules}
        unknown = [i for i in only if i not in known]
        if unknown:
            raise RuleError(both(f"未知规则：{', '.join(unknown)}", f"unknown rules: {', '.join(unknown)}"))
        rules = [r for r in rules if r.id in only]
    if family:
        if family not in FAMILIES:
            raise RuleError(both(f"未知规则族：{family}", f"unknown family {family} (known: {', '.join(FAMILIES)})"))
        rules = [r for r in rules if r.family == family]
    return rules
