"""Logging: a rotating UTF-8 file in the platform's log folder (and the console when not frozen), with a filter
that masks ID numbers and patient names in every record before any handler writes it (SPEC §7).

What is masked, wherever it appears in a message, its arguments or a traceback:
- 18-digit resident ID numbers (and 15-digit old ones): ``5101**********1232``;
- HK/Macao permits (``H12345678``) and, after a cue word, Taiwan permits and passports;
- names after a cue word and a separator (``患者 张三``, ``姓名：``, ``name=``, ``patient=`` …): ``张**``.
Convention for code that logs people: write ``患者=%s`` / ``name=%s`` so the name is recognised.
"""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path

LOG_FILE_NAME = "desktop_his.log"
MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 10
FORMAT = "%(asctime)s %(levelname)-7s %(threadName)s %(name)s: %(message)s"

_PATTERNS: dict[str, re.Pattern[str]] = {}
_SOURCES = {
    "resident": r"(?<![0-9A-Za-z])(\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])",
    "hk_macao": r"(?<![0-9A-Za-z])([HMhm]\d{8}(?:\d{2})?)(?![0-9A-Za-z])",
    "id_cue": (r"((?:id_number|id_no|guardian_id_number|证件号码?|身份证号?|护照号?|通行证号?|passport)"
               r"['\"]?\s*[=:：]\s*['\"]?)([A-Za-z0-9]{5,20})"),
    "name_cue": (r"((?:患者|病人|姓名|监护人|持卡人|patient_name|guardian_name|full_name|patient|guardian|name)"
                 r"(?:['\"]?\s*[=:：]\s*['\"]?|\s+))"
                 r"([\u3400-\u9fff\U00020000-\U0003134F·]{2,12}|[A-Z][a-z]+(?: [A-Z][a-z]+)+)"),
}


def _pattern(name: str) -> re.Pattern[str]:
    # Compiled at the first record, not at import: start-up to the login window stays lean.
    if name not in _PATTERNS:
        _PATTERNS[name] = re.compile(_SOURCES[name])
    return _PATTERNS[name]


def mask_text(text: str) -> str:
    """Mask ID numbers and cue-marked names in free text (idempotent)."""
    text = _pattern("id_cue").sub(lambda m: m.group(1) + _mask_id(m.group(2)), text)
    text = _pattern("resident").sub(lambda m: _mask_id(m.group(1)), text)
    text = _pattern("hk_macao").sub(lambda m: _mask_id(m.group(1)), text)
    return _pattern("name_cue").sub(lambda m: m.group(1) + _mask_name_keep_masks(m.group(2)), text)


# ``ids`` is imported only when something is actually masked: logging starts before the login window
# shows, and start-up must stay close to a bare Qt window's.
def _mask_id(number: str) -> str:
    from desktop_his.services.ids import mask_id_number

    return mask_id_number(number)


def _mask_name_keep_masks(name: str) -> str:
    from desktop_his.services.ids import mask_name

    return name if "*" in name else mask_name(name)


class MaskingFilter(logging.Filter):
    """Rewrites each record's message and traceback with :func:`mask_text` (attach it to every handler)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not lose the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = mask_text(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        return True


class DeferredRotatingFile(logging.Handler):
    """A rotating log file opened at the first record: importing ``logging.handlers`` (socket, pickle …)
    costs ~10 ms that start-up to the login window does not need to pay."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._file: logging.Handler | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self._file is None:
            import logging.handlers

            self._file = logging.handlers.RotatingFileHandler(
                self.path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=True)
            self._file.setFormatter(self.formatter)
        self._file.emit(record)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        super().close()


def setup_logging(log_dir: Path, *, level: str = "INFO", console: bool | None = None) -> Path:
    """Install the file (and console) handlers on the root logger; returns the log file's path.

    ``console`` defaults to "not a frozen (PyInstaller) build". Calling it again replaces our handlers.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / LOG_FILE_NAME
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_desktop_his", False)]:
        root.removeHandler(handler)
        handler.close()
    handlers: list[logging.Handler] = [DeferredRotatingFile(path)]
    if console if console is not None else not getattr(sys, "frozen", False):
        handlers.append(logging.StreamHandler(sys.stderr))
    for handler in handlers:
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(MaskingFilter())
        handler._desktop_his = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    # Libraries' chatter stays at WARNING unless asked for.
    for noisy in ("sqlalchemy", "alembic", "urllib3", "keyring"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return path
