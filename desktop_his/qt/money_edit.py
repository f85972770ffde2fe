"""An amount input that never holds a float: what is typed is yuan text (at most two decimals), what comes out
is integer fen (or the text itself, for services that parse it with ``money.parse_yuan`` and report the
error at the field)."""

from __future__ import annotations

from PySide6.QtCore import QRegularExpression, Qt
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import QLineEdit, QWidget

from desktop_his.services import money
from desktop_his.services.errors import ValidationError

MAX_DIGITS = 7  # up to ¥9,999,999.99 — no single amount in a hospital is larger


class MoneyEdit(QLineEdit):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        pattern = QRegularExpression(rf"^\d{{0,{MAX_DIGITS}}}(\.\d{{0,2}})?$")
        self.setValidator(QRegularExpressionValidator(pattern, self))
        self.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.setPlaceholderText("0.00")

    def set_fen(self, fen: int | None) -> None:
        self.setText("" if fen is None else money.format_fen(fen).replace(",", ""))

    def fen(self) -> int | None:
        """The amount in fen, or None when empty or not a valid amount."""
        try:
            return money.parse_yuan(self.text())
        except ValidationError:
            return None

    def yuan_text(self) -> str:
        return self.text().strip()
