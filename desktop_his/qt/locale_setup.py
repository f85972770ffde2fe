"""Chinese text everywhere: the bundled CJK font as the application font, Qt's own strings in Chinese.

The bundled ``wqy-microhei.ttc`` renders Chinese and Latin with no system font at all (a bare Linux box or
a Windows PC without East Asian fonts); the fallback list covers families the platforms ship in case the
bundled file is missing. Qt's standard buttons (OK/Cancel/Yes/No) and dialogs read 确定/取消/是/否 through
``qtbase_zh_CN.qm`` (shipped inside PySide6).
"""

from __future__ import annotations

import logging
import sys

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

from desktop_his.resources import resource_path

log = logging.getLogger(__name__)

BUNDLED_FONT = ("fonts", "wqy-microhei.ttc")
FALLBACK_FAMILIES = ["Microsoft YaHei UI", "Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC",
                     "Source Han Sans SC", "WenQuanYi Zen Hei", "SimSun"]
CHINA = QLocale(QLocale.Language.Chinese, QLocale.Script.SimplifiedHanScript, QLocale.Country.China)


def install_fonts(app: QApplication) -> list[str]:
    """Register the bundled font and make it the application font; returns the family list in use."""
    families: list[str] = []
    path = resource_path(*BUNDLED_FONT)
    font_id = QFontDatabase.addApplicationFont(str(path)) if path.is_file() else -1
    if font_id >= 0:
        families = [f for f in QFontDatabase.applicationFontFamilies(font_id) if "Mono" not in f]
    else:
        log.warning("bundled font %s could not be loaded; relying on system CJK fonts", path)
    font = QFont(app.font())
    font.setFamilies(families + FALLBACK_FAMILIES)
    if font.pointSizeF() < 10:
        font.setPointSizeF(10)
    app.setFont(font)
    return families + FALLBACK_FAMILIES


def install_translator(app: QCoreApplication) -> bool:
    """Load Qt's Chinese strings (``qtbase_zh_CN``); keeps the translator alive on the application."""
    QLocale.setDefault(CHINA)
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    translator = QTranslator(app)
    loaded = translator.load(CHINA, "qtbase", "_", folder) or translator.load(CHINA, "qt", "_", folder)
    if loaded:
        app.installTranslator(translator)
    else:
        log.warning("Qt's Chinese translation not found in %s; standard buttons stay English", folder)
    return loaded


def apply(app: QApplication) -> None:
    """Fonts, translation and a style that looks the same on every platform except Windows (native there)."""
    install_fonts(app)
    install_translator(app)
    if sys.platform != "win32" and app.style().name().lower() != "fusion":  # often already the default
        app.setStyle("Fusion")
