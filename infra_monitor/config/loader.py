"""Reading the configuration: the TOML file, ``INFRA_MONITOR_<SECTION>__<KEY>`` variables (unknown ones refused
with the nearest valid name), ``enc:`` values decrypted, and error messages that never echo a secret."""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from infra_monitor.config.sections import (
    ENV_CONFIG,
    ENV_NOT_KEYS,
    ENV_PREFIX,
    ConfigError,
    ProbesConfig,
    Settings,
    probes_model,
)


def env_names(model: type[BaseModel] = Settings, prefix: tuple[str, ...] = ()) -> set[str]:
    """Every ``INFRA_MONITOR_<SECTION>__<KEY>…`` variable that names a key (or a whole section) of ``model``."""
    names: set[str] = set()
    for field, info in model.model_fields.items():
        if info.exclude:
            continue
        path = (*prefix, field)
        names.add(ENV_PREFIX + "__".join(path).upper())
        sub = info.annotation
        if sub is ProbesConfig:
            sub = probes_model()
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            names |= env_names(sub, path)
    return names


def _check_env_names(environ: dict[str, str]) -> None:
    """:class:`ConfigError` for an ``INFRA_MONITOR_`` variable that names no key, with the nearest valid ones."""
    valid = env_names()
    unknown = sorted(n for n in environ
                     if n.upper().startswith(ENV_PREFIX) and n not in ENV_NOT_KEYS and n.upper() not in valid)
    if not unknown:
        return
    candidates = sorted(valid | ENV_NOT_KEYS)
    lines = []
    for name in unknown:
        near = difflib.get_close_matches(name.upper(), candidates, n=1, cutoff=0.6)
        hint = f"did you mean {near[0]}?" if near else "see config.example.toml for the keys"
        lines.append(f"environment variable {name}: not a configuration key; {hint}")
    raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines))


def _env_overrides(environ: dict[str, str]) -> dict[str, Any]:
    """Nested dict from INFRA_MONITOR_<SECTION>__<KEY>[__<KEY>] variables (values parsed as TOML when possible)."""
    _check_env_names(environ)
    out: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.upper().startswith(ENV_PREFIX) or name in ENV_NOT_KEYS:
            continue
        path = [p.lower() for p in name[len(ENV_PREFIX):].split("__")]
        try:
            value: Any = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        node = out
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"environment {name}: conflicts with another variable")
        node[path[-1]] = value
    return out


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(merged.get(k), dict):
            merged[k] = _merge(merged[k], v)
        else:
            merged[k] = v
    return merged


MASK = "***"
# keys whose values are secrets: never echoed in an error message, whatever their type
SECRET_KEYS = frozenset({"admin_token", "secret", "password", "community", "token", "api_key",
                         "auth_key", "priv_key", "auth_password", "priv_password"})
# the password of ``scheme://user:password@host`` (database URLs, webhook URLs with credentials)
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:/?#@\s]*):[^/?#\s]*@")  # to the last @


def _is_secret_key(key: Any) -> bool:
    k = str(key).lower()
    return k in SECRET_KEYS or k.endswith(("_token", "_password", "_secret"))


def _mask(value: Any) -> Any:
    """``value`` with secret keys' values replaced by ``***`` and URL passwords masked (recursively)."""
    if isinstance(value, dict):
        return {k: MASK if _is_secret_key(k) else _mask(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask(v) for v in value]
    if isinstance(value, str):
        return _URL_PASSWORD.sub(rf"\g<head>:{MASK}@", value)
    return value


def _describe(err: Any) -> str:
    key = ".".join(str(p) for p in err["loc"])
    kind = err["type"]
    if kind == "extra_forbidden":
        return f"{key}: unknown key (allowed keys are listed in config.example.toml)"
    msg = _mask(err["msg"].removeprefix("Value error, "))
    secret = any(_is_secret_key(p) for p in err["loc"] if isinstance(p, str))
    shown = MASK if secret else repr(_mask(err.get("input")))
    return f"{key}: {msg} (got {shown})"


def _decrypt_values(data: dict[str, Any], source: str, env: dict[str, str]) -> dict[str, Any]:
    """``data`` with every ``enc:v1:`` string decrypted; :class:`ConfigError` naming the key, never the value."""
    from inventory import secretbox

    security = data.get("security")
    key_file = security.get("key_file", "") if isinstance(security, dict) else ""
    try:
        keyring = secretbox.load_keyring(key_file if isinstance(key_file, str) else "", env)
    except secretbox.SecretKeyError as exc:
        where = "" if env.get(secretbox.ENV_KEY, "").strip() else "security.key_file: "
        raise ConfigError(f"{source}: {where}{exc}") from None

    def walk(value: Any, where: str) -> Any:
        if isinstance(value, dict):
            return {k: walk(v, f"{where}.{k}" if where else str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if not secretbox.is_encrypted(value):
            return value
        if keyring is None:
            raise ConfigError(f"{source}: {where}: the value is encrypted (enc:v1:) but no secret key is configured; "
                              f"set {secretbox.ENV_KEY} or [security] key_file")
        try:
            return keyring.decrypt(value)
        except secretbox.SecretDecryptError as exc:
            raise ConfigError(f"{source}: {where}: cannot decrypt the value: {exc}") from None

    return walk(data, "")


def load_settings(path: str | os.PathLike[str] | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Load and validate the settings; raise :class:`ConfigError` naming file and key on any problem."""
    env = dict(os.environ if environ is None else environ)
    if path is None and env.get(ENV_CONFIG):
        path = env[ENV_CONFIG]
    data: dict[str, Any] = {}
    source = "<defaults>"
    if path is not None:
        p = Path(path)
        source = str(p)
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{p}: configuration file not found") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{p}: not valid TOML: {exc}") from None
        except OSError as exc:
            raise ConfigError(f"{p}: cannot read: {exc.strerror}") from None
    overrides = _env_overrides(env)
    if overrides:
        source = f"{source} + environment"
    merged = _decrypt_values(_merge(data, overrides), source, env)
    try:
        settings = Settings.model_validate(merged)
    except ValidationError as exc:
        lines = [f"{source}: {_describe(e)}" for e in exc.errors()]
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines)) from None
    settings.source = source
    return settings
