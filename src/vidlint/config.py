"""Configuration: defaults < ``[tool.vidlint]`` in pyproject.toml < ``vidlint.toml`` < CLI flags.

Rule and analyzer defaults are not repeated here: they live in each rule's and analyzer's
``Params`` dataclass, and this module only validates overrides against those fields. An unknown
key anywhere is an error that names the key and the file.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidlint.analyzers import ANALYZERS
from vidlint.decode import WORKING_SHORT_SIDE
from vidlint.decode.clip import DECODERS
from vidlint.errors import ConfigError
from vidlint.gpu import check_device_name
from vidlint.rules import load_rules
from vidlint.rules.base import Rule
from vidlint.settings import check_values, param

PROFILES = ("fast", "default", "thorough")
FEATURE_SECTIONS = ("regen", "backend", "serve", "batch")
"""Tables owned by features (regeneration, backends, the QA service, batches); each feature
validates its own table when it is used."""
OVERRIDE_KEYS = {"glob", "select", "ignore", "rules"}


@dataclass(frozen=True)
class CheckSettings:
    """The top-level scalar keys, read by the one validator like every table."""

    profile: str = param(
        "default",
        "fast skips the face and hand models; thorough samples them densely",
        choices=PROFILES,
    )
    formats: tuple[str, ...] = param(("json",), "the per-frame JSON report every tool reads")
    decoder: str = param(
        "pyav", "FFmpeg through PyAV, which every install has", choices=tuple(DECODERS)
    )
    device: str = param("auto", "a CUDA GPU when torch sees one, else the CPU")
    working_short_side: int = param(
        WORKING_SHORT_SIDE,
        "analyzers see frames with this short side: artifacts a viewer notices survive it and "
        "the per-frame cost stays flat across source sizes",
        bounds=(64, 4320),
    )


SCALAR_KEYS = tuple(f.name for f in dataclasses.fields(CheckSettings))
TOP_LEVEL_KEYS = {"select", "ignore", *SCALAR_KEYS, "rules", "analyzers", "overrides"}
TOP_LEVEL_KEYS |= set(FEATURE_SECTIONS)


@dataclass(frozen=True)
class Config:
    select: tuple[str, ...] = ("ALL",)
    ignore: tuple[str, ...] = ()
    profile: str = "default"
    formats: tuple[str, ...] = ("json",)
    decoder: str = "pyav"
    device: str = "auto"
    """Where the temporal and flow analyzers do their per-frame math (vidlint.gpu.DEVICES)."""
    working_short_side: int = WORKING_SHORT_SIDE
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    analyzers: dict[str, dict[str, Any]] = field(default_factory=dict)
    overrides: tuple[dict[str, Any], ...] = ()
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    sources: tuple[str, ...] = ()

    # -- selection ---------------------------------------------------------------------------
    def is_selected(self, code: str) -> bool:
        """ruff's rule: the most specific matching selector wins; on a tie, ignore wins."""
        best_select = max((_specificity(s) for s in self.select if _matches(s, code)), default=-1)
        best_ignore = max((_specificity(s) for s in self.ignore if _matches(s, code)), default=-1)
        return best_select >= 0 and best_select > best_ignore

    def explicitly_ignored(self, code: str) -> bool:
        """An ``ignore`` selector (not ``ALL``) names the code or its family."""
        return any(s != "ALL" and _matches(s, code) for s in self.ignore)

    def enabled_rules(self) -> list[Rule]:
        return [r for code, r in load_rules().items() if self.is_selected(code)]

    # -- parameters --------------------------------------------------------------------------
    def rule_params(self, rule: Rule) -> Any:
        values = {k: v for k, v in self.rules.get(rule.code, {}).items() if k != "severity"}
        return dataclasses.replace(rule.params(), **values)

    def rule_severity(self, rule: Rule) -> str:
        return self.rules.get(rule.code, {}).get("severity", rule.severity)

    def analyzer_params(self, analyzer: Any) -> Any:
        values = dict(analyzer.profiles.get(self.profile, {}))
        values.update(self.analyzers.get(analyzer.name, {}))
        return dataclasses.replace(analyzer.Params(), **values)

    def section(self, name: str) -> dict[str, Any]:
        return dict(self.sections.get(name, {}))

    # -- derived -----------------------------------------------------------------------------
    def for_clip(self, path: str | Path) -> Config:
        """This config with the ``overrides`` whose glob matches ``path`` applied."""
        path = Path(path)
        config = self
        for override in self.overrides:
            pattern = override["glob"]
            if not (fnmatch.fnmatch(path.name, pattern) or fnmatch.fnmatch(str(path), pattern)):
                continue
            rules = {
                code: {**config.rules.get(code, {}), **values}
                for code, values in override.get("rules", {}).items()
            }
            config = dataclasses.replace(
                config,
                select=tuple(override.get("select", config.select)),
                ignore=config.ignore + tuple(override.get("ignore", ())),
                rules={**config.rules, **rules},
            )
        return config

    def effective(self) -> dict[str, Any]:
        """What the report records and the cache key hashes."""
        return {
            "select": list(self.select),
            "ignore": list(self.ignore),
            "profile": self.profile,
            "decoder": self.decoder,
            "device": self.device,
            "working_short_side": self.working_short_side,
            "thresholds": self.rules,
            "analyzers": self.analyzers,
        }

    def digest(self) -> str:
        text = json.dumps(self.effective(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def with_options(self, **options: Any) -> Config:
        """CLI flags and API keyword options on top of the files (``None`` means not given)."""
        given = {k: v for k, v in options.items() if v is not None}
        data = _config_table(self) | given
        return build_config(data, sources=self.sources, origin="options")


def load_config(path: str | Path | None = None, start: str | Path | None = None) -> Config:
    """Read ``path`` (a vidlint.toml or a pyproject.toml), or find both kinds of file in ``start``
    and its parents, the nearest one of each."""
    tables: list[tuple[dict[str, Any], str]] = []
    if path is not None:
        path = Path(path)
        tables.append((_read_table(path, required=True), str(path)))
    else:
        folder = Path(start or Path.cwd()).resolve()
        for candidate in (folder, *folder.parents):
            pyproject = candidate / "pyproject.toml"
            vidlint_toml = candidate / "vidlint.toml"
            found = [p for p in (pyproject, vidlint_toml) if p.is_file()]
            tables.extend((_read_table(p, required=False), str(p)) for p in found)
            if found:
                break
    data: dict[str, Any] = {}
    sources = []
    for table, source in tables:
        if table:
            _check_keys(table, TOP_LEVEL_KEYS, source)
            data = _merge(data, table)
            sources.append(source)
    return build_config(data, sources=tuple(sources), origin=", ".join(sources) or "defaults")


def build_config(
    data: dict[str, Any], sources: tuple[str, ...] = (), origin: str = "options"
) -> Config:
    """Validate a merged table against the rule and analyzer parameter dataclasses."""
    _check_keys(data, TOP_LEVEL_KEYS, origin)
    rules = load_rules()
    select = _selectors(data.get("select", ("ALL",)), "select", origin)
    ignore = _selectors(data.get("ignore", ()), "ignore", origin)
    scalars = {key: data[key] for key in SCALAR_KEYS if key in data}
    if isinstance(scalars.get("formats"), str):
        scalars["formats"] = [scalars["formats"]]
    top = CheckSettings(**check_values(CheckSettings, scalars, "", origin))
    rule_tables = {
        code: _rule_table(code, values, rules, origin)
        for code, values in data.get("rules", {}).items()
    }
    analyzer_tables = {}
    for name, values in data.get("analyzers", {}).items():
        if name not in ANALYZERS:
            raise ConfigError(f"unknown analyzer {name!r} in [analyzers]", origin)
        analyzer_tables[name] = check_values(
            ANALYZERS.get(name).Params, values, f"analyzers.{name}", origin
        )
    overrides = []
    for item in data.get("overrides", ()):
        _check_keys(item, OVERRIDE_KEYS, origin, prefix="overrides.")
        if "glob" not in item:
            raise ConfigError("an [[overrides]] entry needs a 'glob'", origin)
        entry = dict(item)
        for key in ("select", "ignore"):
            if key in entry:
                entry[key] = _selectors(entry[key], f"overrides.{key}", origin)
        entry["rules"] = {
            code: _rule_table(code, v, rules, origin) for code, v in item.get("rules", {}).items()
        }
        overrides.append(entry)
    try:
        check_device_name(top.device)
    except ConfigError as exc:
        raise ConfigError(exc.cause, origin) from None
    return Config(
        select=select,
        ignore=ignore,
        profile=top.profile,
        formats=top.formats,
        decoder=top.decoder,
        device=top.device,
        working_short_side=top.working_short_side,
        rules=rule_tables,
        analyzers=analyzer_tables,
        overrides=tuple(overrides),
        sections={k: dict(data[k]) for k in FEATURE_SECTIONS if k in data},
        sources=sources,
    )


def _rule_table(
    code: str, values: dict[str, Any], rules: dict[str, Any], origin: str
) -> dict[str, Any]:
    if code not in rules:
        raise ConfigError(f"unknown rule code {code!r} in [rules]", origin)
    values = dict(values)
    severity = values.pop("severity", None)
    table = check_values(rules[code].params, values, f"rules.{code}", origin, positive=True)
    if severity is not None:
        if severity not in ("error", "warning", "info"):
            raise ConfigError(f"rules.{code}.severity must be error, warning or info", origin)
        table["severity"] = severity
    return table


def _selectors(value: Any, key: str, origin: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else list(value)
    out = []
    codes = load_rules()
    for item in items:
        for part in str(item).split(","):
            part = part.strip().upper()
            if not part:
                continue
            if part != "ALL" and not any(code.startswith(part) for code in codes):
                raise ConfigError(f"{key}: {part!r} matches no rule code or family", origin)
            out.append(part)
    return tuple(out)


def _matches(selector: str, code: str) -> bool:
    return selector == "ALL" or code.startswith(selector)


def _specificity(selector: str) -> int:
    return 0 if selector == "ALL" else len(selector)


def _read_table(path: Path, required: bool) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ConfigError("config file not found", path) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML ({exc})", path) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read config ({exc.strerror})", path) from exc
    if path.name == "pyproject.toml":
        table = document.get("tool", {}).get("vidlint", {})
        if required and not table:
            raise ConfigError("has no [tool.vidlint] table", path)
        return table
    return document


def _check_keys(table: dict[str, Any], known: set[str], origin: str, prefix: str = "") -> None:
    for key in table:
        if key not in known:
            raise ConfigError(f"unknown key '{prefix}{key}'", origin)


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _config_table(config: Config) -> dict[str, Any]:
    table: dict[str, Any] = {
        "select": config.select,
        "ignore": config.ignore,
        "profile": config.profile,
        "formats": config.formats,
        "decoder": config.decoder,
        "device": config.device,
        "working_short_side": config.working_short_side,
        "rules": config.rules,
        "analyzers": config.analyzers,
        "overrides": list(config.overrides),
    }
    table.update(config.sections)
    return table
