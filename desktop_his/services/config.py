"""Settings: a TOML file in the platform's config folder, every key overridable by ``DESKTOP_HIS_<KEY>``.

Secrets never live here (see :mod:`desktop_his.services.secrets`). Precedence, lowest first: built-in
defaults, the TOML file, environment variables.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import platformdirs

from desktop_his import APP_NAME
from desktop_his.services.errors import ConfigError

ENV_PREFIX = "DESKTOP_HIS_"


def default_config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


@dataclass
class Settings:
    """Every configurable key. Field name ``foo_bar`` ↔ TOML key ``foo_bar`` ↔ env ``DESKTOP_HIS_FOO_BAR``."""

    data_dir: Path = field(default_factory=default_data_dir)
    log_dir: Path = field(default_factory=default_log_dir)
    # Empty: SQLite file ``his.sqlite3`` in data_dir. Otherwise any SQLAlchemy URL
    # (``postgresql+psycopg://user@host/db``; ``postgresql://`` is accepted and mapped to psycopg).
    database_url: str = ""
    # Empty: start the bank sandbox in-process on a loopback port (demo mode).
    bank_url: str = ""
    bank_merchant_id: str = "HIS0001"
    bank_connect_timeout: float = 3.0
    bank_read_timeout: float = 10.0
    workstation: str = field(default_factory=lambda: os.environ.get("COMPUTERNAME") or os.uname().nodename)
    hospital_name: str = "演示医院"
    idle_lock_minutes: int = 15
    log_level: str = "INFO"
    # Seed demo data on first start when the database is empty.
    demo_seed: bool = True

    @property
    def demo_mode(self) -> bool:
        """Demo mode: no real bank configured (the in-process sandbox is used)."""
        return not self.bank_url

    @property
    def effective_database_url(self) -> str:
        url = self.database_url.strip()
        if not url:
            return f"sqlite:///{(self.data_dir / 'his.sqlite3').as_posix()}"
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return url


def _coerce(name: str, raw: Any, target: Any) -> Any:
    """Convert a TOML/env value to the type of the field's default."""
    try:
        if isinstance(target, bool):
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(raw)
        if isinstance(target, int):
            return int(raw)
        if isinstance(target, float):
            return float(raw)
        if isinstance(target, Path):
            return Path(str(raw)).expanduser()
        return str(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"配置项 {name} 的值无效：{raw!r}") from exc


def config_file_path(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    override = env.get(ENV_PREFIX + "CONFIG_FILE")
    return Path(override) if override else default_config_dir() / "settings.toml"


def load_settings(environ: dict[str, str] | None = None, path: Path | None = None) -> Settings:
    """Defaults ← TOML file (if present) ← ``DESKTOP_HIS_*`` environment variables."""
    env = dict(os.environ if environ is None else environ)
    settings = Settings()
    path = path or config_file_path(env)
    file_values: dict[str, Any] = {}
    if path.is_file():
        import tomllib  # here, not at the top: start-up to the login window stays lean (bench/startup.py)

        try:
            file_values = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"配置文件 {path} 无法读取：{exc}") from exc
    known = {f.name for f in fields(Settings)}
    for key in file_values:
        if key not in known:
            raise ConfigError(f"配置文件 {path} 含未知配置项：{key}")
    for f in fields(Settings):
        current = getattr(settings, f.name)
        if f.name in file_values:
            setattr(settings, f.name, _coerce(f.name, file_values[f.name], current))
        env_key = ENV_PREFIX + f.name.upper()
        if env_key in env:
            setattr(settings, f.name, _coerce(env_key, env[env_key], current))
    return settings


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write the non-default keys back to the TOML file (used by the admin "connection settings" view)."""
    path = path or config_file_path()
    defaults = Settings()
    values: dict[str, Any] = {}
    for f in fields(Settings):
        value = getattr(settings, f.name)
        if value != getattr(defaults, f.name):
            values[f.name] = str(value) if isinstance(value, Path) else value
    path.parent.mkdir(parents=True, exist_ok=True)
    import tomli_w

    path.write_text(tomli_w.dumps(values), encoding="utf-8")
    return path


def replace(settings: Settings, **changes: Any) -> Settings:
    return dataclasses.replace(settings, **changes)
