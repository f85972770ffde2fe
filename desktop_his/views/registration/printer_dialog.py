"""This workstation's printer for guide slips (setting ``printer:registration`` of scope ``ws:<workstation>``):
PDF files, a system printer (any printer the OS knows), or an ESC/POS thermal printer over the network, USB or a
serial port; 80 mm or A5; whether the slip prints by itself after registering. Also the workstation's ID-card
reader (``services.idcard``: keyboard wedge / manual, the simulated reader, installed vendor adapters)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_his.qt import ops
from desktop_his.qt.field_errors import FieldErrors
from desktop_his.qt.widgets import save_cancel_row
from desktop_his.services import idcard
from desktop_his.services.errors import ValidationError
from desktop_his.views.inpatient.common import label

if TYPE_CHECKING:
    from desktop_his.printing.settings import PrinterSettings
    from desktop_his.services.container import Services
    from desktop_his.services.permissions import Actor

SLIP_KIND = "registration"


def load_settings(services: Services) -> PrinterSettings:
    from desktop_his.printing.settings import load_printer_settings

    with services.db.reader() as s:
        return load_printer_settings(s, services.settings.workstation, SLIP_KIND)


def load_reader(services: Services) -> str:
    with services.db.reader() as s:
        return idcard.load_reader_setting(s, services.settings.workstation, demo=services.demo_mode)["kind"]


def save_settings(services: Services, actor: Actor, settings: PrinterSettings, reader_kind: str) -> PrinterSettings:
    from desktop_his.printing.settings import save_printer_settings

    with services.db.session() as s:
        save_printer_settings(s, services.settings.workstation, settings, at=services.clock.now(),
                              by=actor.username, slip_kind=SLIP_KIND)
        idcard.save_reader_setting(s, services.settings.workstation, {"kind": reader_kind},
                                   at=services.clock.now(), by=actor.username)
    return settings


class PrinterDialog(QDialog):
    def __init__(self, services: Services, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from desktop_his.printing.settings import KINDS, LAYOUTS

        self.setObjectName("printer_dialog")
        self.setWindowTitle(f"本机设置（导诊单打印、读卡器） — {services.settings.workstation}")
        self.services, self.actor = services, actor
        general = label("printer_form_error")
        general.hide()
        self.errors = FieldErrors(self, general=general)
        self.kind = self._combo("printer_kind", KINDS)
        self.layout_box = self._combo("printer_layout", {k: v for k, v in LAYOUTS.items() if k != "A4"})
        self.auto = QCheckBox("挂号后自动打印导诊单")
        self.auto.setObjectName("printer_auto_print")
        self.pdf_folder = self._line("printer_pdf_folder", "留空：数据目录下的 slips 文件夹")
        self.printer_name = QComboBox()
        self.printer_name.setObjectName("printer_name")
        self.printer_name.setEditable(True)
        self.host = self._line("printer_host", "如 192.168.1.50")
        self.port = QSpinBox()
        self.port.setObjectName("printer_port")
        self.port.setRange(1, 65535)
        self.usb = self._line("printer_usb", "厂商ID:产品ID（十六进制，如 0416:5011）")
        self.serial = self._line("printer_serial_device", "COM3 或 /dev/ttyUSB0")
        self.copies = QSpinBox()
        self.copies.setObjectName("printer_copies")
        self.copies.setRange(1, 5)
        self.reader = self._combo("printer_reader_kind", idcard.reader_kinds())
        e = self.errors
        form = QFormLayout()
        form.addRow("打印方式", e.add("kind", self.kind))
        form.addRow("版式", e.add("layout", self.layout_box))
        form.addRow("", self.auto)
        form.addRow("PDF文件夹", e.add("pdf_folder", self.pdf_folder))
        form.addRow("系统打印机", e.add("printer_name", self.printer_name))
        form.addRow("网络地址", e.add("host", self.host))
        form.addRow("端口", e.add("port", self.port))
        form.addRow("USB", e.add("usb_vendor", self.usb, "usb_product"))
        form.addRow("串口", e.add("serial_device", self.serial, "baudrate"))
        form.addRow("份数", e.add("copies", self.copies, "columns"))
        form.addRow("身份证读卡器", e.add("reader_kind", self.reader))
        buttons, self.save_button, _cancel = save_cancel_row(self, "printer", "保存 (Enter)", self.save)
        box = QVBoxLayout(self)
        box.addLayout(form)
        box.addWidget(general)
        box.addLayout(buttons)
        self.setMinimumWidth(480)
        self._fill_printers()
        svc = services
        ops.run(self, lambda: (load_settings(svc), load_reader(svc)), on_success=self._loaded)

    def _loaded(self, data: tuple[PrinterSettings, str]) -> None:
        settings, reader = data
        self.reader.setCurrentIndex(max(0, self.reader.findData(reader)))
        self.show_settings(settings)

    @staticmethod
    def _combo(name: str, items: dict[str, str]) -> QComboBox:
        combo = QComboBox()
        combo.setObjectName(name)
        for key, text in items.items():
            combo.addItem(text, key)
        return combo

    @staticmethod
    def _line(name: str, placeholder: str) -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(name)
        edit.setPlaceholderText(placeholder)
        return edit

    def _fill_printers(self) -> None:
        from PySide6.QtPrintSupport import QPrinterInfo

        self.printer_name.addItem("")
        self.printer_name.addItems(QPrinterInfo.availablePrinterNames())

    def show_settings(self, settings: PrinterSettings) -> None:
        self.kind.setCurrentIndex(max(0, self.kind.findData(settings.kind)))
        self.layout_box.setCurrentIndex(max(0, self.layout_box.findData(settings.layout)))
        self.auto.setChecked(settings.auto_print)
        self.pdf_folder.setText(settings.pdf_folder)
        self.printer_name.setCurrentText(settings.printer_name)
        self.host.setText(settings.host)
        self.port.setValue(settings.port)
        if settings.usb_vendor:
            self.usb.setText(f"{settings.usb_vendor:04x}:{settings.usb_product:04x}")
        self.serial.setText(settings.serial_device)
        self.copies.setValue(settings.copies)

    def collect(self) -> PrinterSettings:
        from desktop_his.printing.settings import PrinterSettings, parse_usb_id

        vendor = product = 0
        if self.kind.currentData() == "escpos_usb":
            left, _, right = self.usb.text().partition(":")
            if not right:
                raise ValidationError("请按“厂商ID:产品ID”填写，如 0416:5011", field="usb_vendor")
            vendor, product = parse_usb_id(left, field="usb_vendor"), parse_usb_id(right, field="usb_product")
        return PrinterSettings(kind=self.kind.currentData(), layout=self.layout_box.currentData(),
                               auto_print=self.auto.isChecked(), pdf_folder=self.pdf_folder.text().strip(),
                               printer_name=self.printer_name.currentText().strip(), host=self.host.text().strip(),
                               port=self.port.value(), usb_vendor=vendor, usb_product=product,
                               serial_device=self.serial.text().strip(), copies=self.copies.value()).validated()

    def save(self) -> None:
        try:
            settings = self.collect()
        except ValidationError as exc:
            self.errors.show(exc)
            return
        services, actor, reader = self.services, self.actor, self.reader.currentData()
        ops.run(self, lambda: save_settings(services, actor, settings, reader), on_success=lambda _s: self.accept(),
                errors=self.errors, disable=[self.save_button])
