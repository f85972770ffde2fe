"""The mandated 信用就医 confirmation at the immunization desk's registration (SPEC §6, the registration pop-up:
the plan §三.四.7 has the resident confirm at the desk as at a registration window). Confirm → 信用就医 is used
for this visit's vaccine slips; cancel → the usual payment."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QHBoxLayout, QVBoxLayout, QWidget

from desktop_his.qt.widgets import save_cancel_row
from desktop_his.services import texts
from desktop_his.services.bank import SignStatus
from desktop_his.views.inpatient.common import MARK_STYLE, label, yuan

PROMPT_STYLE = "font-size: 14pt; font-weight: bold; color: #1a5276; padding: 8px;"


class CreditPromptDialog(QDialog):
    """Confirm / cancel; ``accepted`` / ``rejected`` as any QDialog."""

    def __init__(self, patient: str, sign: SignStatus, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("credit_prompt_dialog")
        self.setWindowTitle(texts.SERVICE_NAME)
        self.text = label("credit_prompt_text", texts.REGISTRATION_CREDIT_PROMPT, style=PROMPT_STYLE)
        mark = texts.SLIP_MARK_FAMILY if sign.family_pay else texts.SLIP_MARK_CREDIT
        holder = f"（额度主体人 {sign.holder_name_masked}）" if sign.family_pay and sign.holder_name_masked else ""
        info = label("credit_prompt_info", f"{patient}\u3000可用额度 {yuan(sign.available_fen)}{holder}")
        mark_row = QHBoxLayout()
        mark_row.addWidget(label("credit_prompt_mark", mark, style=MARK_STYLE, wrap=False), 0, Qt.AlignmentFlag.AlignVCenter)
        mark_row.addWidget(info, 1)
        buttons, self.confirm_button, _cancel = save_cancel_row(
            self, "credit_prompt", "确认使用 (Enter)", self.accept, save_name="confirm", cancel_text="不使用 (Esc)")
        layout = QVBoxLayout(self)
        layout.addLayout(mark_row)
        layout.addWidget(self.text)
        layout.addLayout(buttons)
        self.text.setAlignment(Qt.AlignmentFlag.AlignLeft)
        self.setMinimumWidth(520)
