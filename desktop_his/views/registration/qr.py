"""A QR code on screen (the bank's 信用就医 signing page for an unsigned patient), drawn from the ``qrcode``
library's matrix as plain squares — sharp at any size, no image plug-in needed."""

from __future__ import annotations

import qrcode
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QDialog, QLabel, QPushButton, QVBoxLayout, QWidget


class QrWidget(QWidget):
    def __init__(self, payload: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
        code.add_data(payload)
        code.make(fit=True)
        self.matrix = code.get_matrix()
        self.payload = payload
        self.setMinimumSize(240, 240)

    def paintEvent(self, _event) -> None:  # noqa: ANN001, N802 - Qt's name
        painter = QPainter(self)
        side = min(self.width(), self.height())
        painter.fillRect(self.rect(), QColor("white"))
        cell = side / len(self.matrix)
        x0, y0 = (self.width() - side) / 2, (self.height() - side) / 2
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("black"))
        for r, row in enumerate(self.matrix):
            for c, dark in enumerate(row):
                if dark:
                    painter.drawRect(QRectF(x0 + c * cell, y0 + r * cell, cell + 0.5, cell + 0.5))
        painter.end()


class QrDialog(QDialog):
    def __init__(self, title: str, payload: str, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sign_qr_dialog")
        self.setWindowTitle(title)
        self.code = QrWidget(payload)
        self.code.setObjectName("sign_qr_code")
        text = QLabel(caption)
        text.setObjectName("sign_qr_caption")
        text.setWordWrap(True)
        close = QPushButton("关闭 (Esc)")
        close.setObjectName("sign_qr_close")
        close.clicked.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(self.code, 1)
        layout.addWidget(text)
        layout.addWidget(close)
        self.resize(340, 420)
