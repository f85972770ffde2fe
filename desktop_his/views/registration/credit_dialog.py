"""The mandated 信用就医 pop-up of the registration window (SPEC §6), a dialog of its own.

The text is :data:`texts.REGISTRATION_CREDIT_PROMPT`, character for character. Enter confirms (the default
button), Esc cancels. The confirmation itself is audited by ``CreditService.use_credit`` (cashier, patient,
time, workstation) when the window acts on ``accepted``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from desktop_his.services import texts
from desktop_his.services.money import format_fen

if TYPE_CHECKING:
    from desktop_his.services.bank import SignStatus

MARK_STYLE = "color: white; background: #1a5276; padding: 2px 8px; border-radius: 3px; font-weight: bold;"


class CreditConfirmDialog(QDialog):
    """确认 (Enter) → ``accepted``; 取消 (Esc) → ``rejected``."""

    def __init__(self, patient_name: str, fee_fen: int, sign: SignStatus, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("credit_confirm_dialog")
        self.setWindowTitle(texts.SERVICE_NAME)
        self.setModal(True)
        mark = QLabel(texts.slip_mark(True, sign.family_pay) or texts.SLIP_MARK_CREDIT)
        mark.setObjectName("credit_confirm_mark")
        mark.setStyleSheet(MARK_STYLE)
        mark.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.prompt = QLabel(texts.REGISTRATION_CREDIT_PROMPT)
        self.prompt.setObjectName("credit_confirm_text")
        self.prompt.setWordWrap(True)
        self.prompt.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.prompt.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self.prompt.setFont(font)
        holder = f"\u3000额度主体人 {sign.holder_name_masked}" if sign.family_pay and sign.holder_name_masked else ""
        detail = QLabel(f"{patient_name}\u3000本次挂号费 {format_fen(fee_fen, symbol=True)}{holder}")
        detail.setObjectName("credit_confirm_detail")
        self.ok_button = QPushButton("确认 (Enter)")
        self.ok_button.setObjectName("credit_confirm_ok")
        self.ok_button.setDefault(True)
        self.ok_button.clicked.connect(self.accept)
        self.cancel_button = QPushButton("取消 (Esc)")
        self.cancel_button.setObjectName("credit_confirm_cancel")
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.reject)
        top = QHBoxLayout()
        top.addWidget(mark)
        top.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.ok_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.prompt)
        layout.addWidget(detail)
        layout.addLayout(buttons)
        self.setMinimumWidth(520)
        self.ok_button.setFocus()
