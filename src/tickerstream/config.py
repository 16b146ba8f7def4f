"""Settings: dataclass defaults < TOML file < environment (``TICKER_*``) < ``--set key=value`` flags.

Every configurable part of tickerstream describes its settings as a (possibly nested) dataclass
whose fields all have defaults. ``load_settings`` layers the sources above on top of those
defaults and checks each value against the field's type, so a typo in a key or a value is an
error that names the key, never a silent default.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from tickerstream.errors import ConfigError

T = TypeVar("T")

ENV_PREFIX = "TICKER_"

#: Tables of a config file that belong to one part of tickerstream each: ``[kafka]`` (connection,
#: topics, security, the SASL password) and ``[process]`` (ticker-process). The engine's tables
#: (``[windows]``, ``[moves]``, ``[pegs]``) sit at the top level. So one file serves every command:
#: each takes its own table(s) and leaves the others alone.
FILE_SECTIONS = ("kafka", "process")


def load_settings(
    cls: type[T],
    file: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Iterable[str] = (),
    env_section: str = "",
    file_section: str | None = None,
) -> T:
    """Build ``cls`` from its defaults, a TOML file, ``TICKER_*`` variables and ``key=value`` strings.

    Keys are dotted paths into the dataclass (``moves.threshold_pct``). Environment variables
    use ``TICKER_`` + the path upper-cased with ``__`` for dots (``TICKER_MOVES__THRESHOLD_PCT``);
    ``env_section`` restricts them to one sub-tree (e.g. ``ENGINE``) so that unrelated
    ``TICKER_*`` variables of other commands do not count as typos.

    ``file_section`` (one of :data:`FILE_SECTIONS`): take that table of the file. A file without any
    of those tables is read whole (a flat Kafka file, as ``ticker-produce --config`` always took).
    Without ``file_section`` (the engine), those tables are left to the commands that read them.
    """
    values: dict[str, Any] = {}
    if file is not None:
        values = _file_values(Path(file), file_section)
    prefix = ENV_PREFIX + (env_section.upper() + "__" if env_section else "")
    for name, raw in sorted((env if env is not None else os.environ).items()):
        if name.startswith(prefix):
            key = name[len(prefix) :].lower().replace("__", ".")
            _set_path(values, key, _parse_scalar(raw))
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects key=value, got {item!r}")
        _set_path(values, key.strip(), _parse_scalar(raw.strip()))
    return build_dataclass(cls, values, "")


def _file_values(path: Path, section: str | None) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            values = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    if section is None:
        return {k: v for k, v in values.items() if k not in FILE_SECTIONS}
    if not any(s in values for s in FILE_SECTIONS):
        return values  # a flat file of this section's keys
    table = values.get(section, {})
    if not isinstance(table, dict):
        raise ConfigError(f"config file {path}: {section} must be a table ([{section}])")
    return table


def _parse_scalar(raw: str) -> Any:
    """Read a value as TOML would (numbers, booleans, arrays, quoted strings), else as a bare string."""
    try:
        return tomllib.loads(f"x = {raw}")["x"]
    except tomllib.TOMLDecodeError:
        return raw


def _set_path(values: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = values
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{dotted}: {part} is a value, not a section")
        node = child
    node[parts[-1]] = value


def build_dataclass(cls: type[T], values: Mapping[str, Any], where: str) -> T:
    """Instantiate dataclass ``cls`` from a nested mapping, checking keys and value types."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        known = ", ".join(sorted(fields))
        raise ConfigError(f"unknown setting {where}{unknown[0]} (known here: {known})")
    kwargs: dict[str, Any] = {}
    for name, value in values.items():
        kwargs[name] = _coerce(hints[name], value, f"{where}{name}")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where.rstrip('.') or cls.__name__}: {exc}") from None


def _shown(key: str, value: Any) -> str:
    """A value for an error message: secrets (``kafka.sasl_password``) are never echoed."""
    from tickerstream.log import REDACTED, is_secret_key

    return REDACTED if is_secret_key(key.rpartition(".")[2]) else repr(value)


def _coerce(hint: Any, value: Any, key: str) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key} is a section; set its keys as {key}.NAME")
        return build_dataclass(hint, value, key + ".")
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        is_null = value is None or (isinstance(value, str) and value.lower() in ("none", "null"))
        if is_null and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _coerce(option, value, key)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if errors else f"{key}: invalid value {_shown(key, value)}")
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key} expects a list like [1, 2], got {_shown(key, value)}")
        args = typing.get_args(hint)
        item_hint = args[0] if args else Any
        items = [_coerce(item_hint, v, f"{key}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin in (dict, Mapping) or hint is Any:
        return value
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{key} expects true or false, got {_shown(key, value)}")
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{key} expects an integer, got {_shown(key, value)}")
    if hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"{key} expects a number, got {_shown(key, value)}")
    if hint is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{key} expects a string, got {_shown(key, value)}")
    return value
