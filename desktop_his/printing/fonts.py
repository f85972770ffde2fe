"""Fonts for printed slips: the bundled WenQuanYi Micro Hei first, then fonts that have the CJK extension
planes, so a rare name character such as 𠮷 (U+20BB7, CJK Ext-B) never vanishes from a slip.

What Qt does (measured on Qt 6.12 with QPdfWriter): a character missing from the slip font is drawn from a
system fallback font found by the platform's font matching (fontconfig on Linux, DirectWrite on Windows); the
glyph is embedded and prints correctly. We do not rely on that lookup alone: we name the Ext-B fonts ourselves
(``EXTENSION_FONTS``) and, for a character no listed font has, search every installed family once. A character
no installed font can draw is printed as ``〓`` (the conventional mark for a missing character in Chinese
typesetting) and logged, rather than silently disappearing — install SimSun-ExtB (Windows' "Chinese
Supplemental Fonts") or HanaMinB/Noto CJK on such a PC.

Limit of Qt's PDF writer: its ToUnicode map covers only the Basic Multilingual Plane (``QFontSubset::
getReverseMap`` loops over U+0000–U+FFFF), so a 4-byte character is printed but cannot be copied or extracted
as text from the PDF. The paper slip is unaffected.

Qt rule: fonts need a ``QGuiApplication``. Set-up (:func:`slip_font_families`) is guarded by a lock and may run
on a worker thread; QFont/QFontMetrics used for painting on QPdfWriter/QPrinter/QImage are fine there.
"""

from __future__ import annotations

import logging
import threading

from PySide6.QtGui import QFont, QFontDatabase, QFontMetricsF, QGuiApplication

from desktop_his.resources import resource_path

log = logging.getLogger(__name__)

BUNDLED_FONT = ("fonts", "wqy-microhei.ttc")
MISSING_GLYPH = "〓"
# Families that cover CJK Ext-A/B…: Windows (SimSun-ExtB, MingLiU-ExtB), Linux (HanaMin, Noto/Source Han).
EXTENSION_FONTS = ("SimSun-ExtB", "SimSun-ExtG", "MingLiU-ExtB", "HanaMinB", "HanaMinA", "Noto Sans CJK SC",
                   "Noto Serif CJK SC", "Source Han Sans SC", "Microsoft YaHei", "SimSun")

_lock = threading.Lock()
_families: list[str] | None = None
_coverage: dict[str, str | None] = {}  # character → first family that has it (None: no installed font)


def slip_font_families() -> list[str]:
    """The family list every slip font uses (bundled font first). Loads the bundled font once."""
    global _families
    with _lock:
        if _families is None:
            if QGuiApplication.instance() is None:
                raise RuntimeError("printing needs a QGuiApplication (fonts)")
            font_id = QFontDatabase.addApplicationFont(str(resource_path(*BUNDLED_FONT)))
            bundled = QFontDatabase.applicationFontFamilies(font_id)[:1] if font_id >= 0 else []
            if not bundled:
                log.error("bundled slip font %s could not be loaded", "/".join(BUNDLED_FONT))
            installed = set(QFontDatabase.families())
            _families = bundled + [f for f in EXTENSION_FONTS if f in installed and f not in bundled]
        return list(_families)


def slip_font(point_size: float, *, bold: bool = False) -> QFont:
    font = QFont()
    font.setFamilies(slip_font_families())
    font.setPointSizeF(point_size)
    font.setBold(bold)
    font.setStyleStrategy(QFont.StyleStrategy.PreferAntialias)
    return font


def _has(family: str, ch: str) -> bool:
    return QFontMetricsF(QFont(family)).inFontUcs4(ord(ch))


def _family_for(ch: str) -> str | None:
    with _lock:
        if ch in _coverage:
            return _coverage[ch]
    families = slip_font_families()
    found = next((f for f in families if _has(f, ch)), None)
    if found is None:  # search every installed family once for this character
        found = next((f for f in QFontDatabase.families() if _has(f, ch)), None)
        if found is not None:
            with _lock:
                if _families is not None and found not in _families:
                    _families.append(found)
    with _lock:
        _coverage[ch] = found
    return found


def printable(text: str) -> str:
    """``text`` with every character no installed font can draw replaced by ``〓`` (logged)."""
    out = []
    for ch in text:
        if ord(ch) < 0x3000 or ch.isspace() or _family_for(ch) is not None:
            out.append(ch)
        else:
            log.warning("no installed font has U+%04X; printed as %s", ord(ch), MISSING_GLYPH)
            out.append(MISSING_GLYPH)
    return "".join(out)


def missing_characters(text: str) -> set[str]:
    """Characters of ``text`` that no installed font can draw (for a settings/diagnostics view)."""
    return {ch for ch in text if ord(ch) >= 0x3000 and not ch.isspace() and _family_for(ch) is None}
