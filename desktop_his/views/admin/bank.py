"""银行连接 (this PC): bank URL, merchant id, timeouts; the merchant key and SM4 data key go to the OS keyring
only. Refused, with the keyring's own reason at the key field, when the keyring would keep them in plain
text."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_his.qt import ops
from desktop_his.qt.field_errors import FieldErrors
from desktop_his.services.admin.hospital import BankConnection, BankConnectionForm

if TYPE_CHECKING:
    from desktop_his.services.container import Services
    from desktop_his.services.permissions import Actor


def _seconds() -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(0.0, 999.0)
    spin.setDecimals(1)
    spin.setSuffix(" 秒")
    return spin


def _secret(placeholder: str) -> QLineEdit:
    edit = QLineEdit()
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setPlaceholderText(placeholder)
    return edit


class BankPage(QWidget):
    def __init__(self, services: Services, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("bank_page")
        self.services, self.actor = services, actor
        box = QGroupBox("本机的银行连接（信用就医接口；保存后重新启动程序生效）")
        form = QFormLayout()
        general = QLabel()
        general.setObjectName("bank_form_error")
        self.errors = FieldErrors(self, general=general)
        self.url = QLineEdit()
        self.url.setPlaceholderText("留空：演示模式（程序内置的银行模拟器）")
        self.merchant_id = QLineEdit()
        self.connect_timeout, self.read_timeout = _seconds(), _seconds()
        self.merchant_key = _secret("留空则保持不变（十六进制）")
        self.data_key = _secret("留空则保持不变（32 位十六进制）")
        for name, widget, label in (("bank_url", self.url, "银行地址"), ("merchant_id", self.merchant_id, "商户号"),
                                    ("connect_timeout", self.connect_timeout, "连接超时"),
                                    ("read_timeout", self.read_timeout, "响应超时"),
                                    ("merchant_key", self.merchant_key, "商户密钥"),
                                    ("data_key", self.data_key, "SM4 数据密钥")):
            widget.setObjectName(f"bank_{name}")
            form.addRow(label, self.errors.add(name, widget))
        self.state = QLabel()
        self.state.setObjectName("bank_state")
        self.state.setWordWrap(True)
        self.save_button = QPushButton("保存")
        self.save_button.setObjectName("bank_save")
        self.save_button.clicked.connect(self.save)
        row = QHBoxLayout()
        row.addWidget(self.state, 1)
        row.addWidget(self.save_button)
        inner = QVBoxLayout(box)
        inner.addLayout(form)
        inner.addWidget(general)
        inner.addLayout(row)
        layout = QVBoxLayout(self)
        layout.addWidget(box)
        layout.addStretch(1)
        ops.run(self, services.hospital.bank_connection, on_success=self._show)

    def _show(self, conn: BankConnection) -> None:
        self.url.setText(conn.url)
        self.merchant_id.setText(conn.merchant_id)
        self.connect_timeout.setValue(conn.connect_timeout)
        self.read_timeout.setValue(conn.read_timeout)
        self.merchant_key.clear()
        self.data_key.clear()
        parts = ["当前：演示模式（内置银行模拟器）" if conn.demo else f"当前：连接 {conn.url}",
                 "商户密钥：" + ("已保存在系统密钥环" if conn.merchant_key_set else "未设置"),
                 "SM4 数据密钥：" + ("已保存在系统密钥环" if conn.data_key_set else "未设置")]
        if conn.keyring_problem:
            parts.append(f"注意：{conn.keyring_problem}，本机不能保存银行密钥")
        self.state.setText("；".join(parts))

    def save(self) -> None:
        form = BankConnectionForm(self.url.text(), self.merchant_id.text(), self.connect_timeout.value(),
                                  self.read_timeout.value(), self.merchant_key.text(), self.data_key.text())
        hospital, actor = self.services.hospital, self.actor
        ops.run(self, lambda: hospital.save_bank_connection(actor, form), on_success=self._saved,
                errors=self.errors, wait="正在保存…", disable=[self.save_button])

    def _saved(self, conn: BankConnection) -> None:
        self._show(conn)
        self.state.setText(self.state.text() + "。已保存，重新启动程序后生效。")
