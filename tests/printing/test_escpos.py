"""ESC/POS output: the exact bytes (Dummy printer), and delivery over a real socket and a serial port."""

from __future__ import annotations

import os
import select
import socket
import threading

import pytest

from desktop_his.printing import PrinterSettings, print_slip
from desktop_his.printing.escpos_out import CHINESE_MODE, encode, to_bytes, width, wrap
from desktop_his.services.slips import Field, PrintError, SlipDocument, Table
from tests.printing.slipdata import FULL_ID, MASKED_ID, slip

QR_STORE = b"\x1d(k"  # GS ( k: native 2-D code commands
CUT = b"\x1dV"


def test_chinese_mode_and_gb18030_text() -> None:
    data = to_bytes(slip())
    assert data.startswith(b"\x1b\x40" + CHINESE_MODE)
    name = "𠮷野".encode("gb18030")
    four = name[:4]  # 𠮷 is a 4-byte GB18030 sequence: lead byte, digit, lead byte, digit
    assert 0x81 <= four[0] <= 0xFE and 0x30 <= four[1] <= 0x39 and 0x81 <= four[2] <= 0xFE and 0x30 <= four[3] <= 0x39
    assert four.decode("gb18030") == "𠮷"
    assert name in data
    assert "信用就医".encode("gb18030") in data
    assert MASKED_ID.encode() in data and FULL_ID.encode() not in data
    assert "￥15.00".encode("gb18030") in data  # ¥ printed as the full-width sign every GBK font has
    assert b"?" not in data.replace(b"\x1d(k", b"")  # nothing fell back to a code page


def test_native_qr_with_the_visit_number_and_a_cut() -> None:
    data = to_bytes(slip())
    store = QR_STORE + bytes([len("V20261123000042") + 3, 0]) + b"1P0" + b"V20261123000042"
    assert store in data
    assert QR_STORE + b"\x03\x001Q0" in data  # print the stored symbol
    assert data.rstrip(b"\x00").find(CUT) > data.find(store)


def test_reprint_and_mark_are_printed_large() -> None:
    data = to_bytes(slip(reprint=True, mark="亲情付"))
    assert "【补打】".encode("gb18030") in data
    assert "挂号导诊单（补打）".encode("gb18030") in data
    assert "亲情付".encode("gb18030") in data
    assert b"\x1dB\x01" in data  # white-on-black for the mark


def test_lines_fit_the_paper() -> None:
    doc = SlipDocument(kind="order", hospital="医院", title="收费单", reference="O1",
                       blocks=(Field("地点", "门诊楼三楼检验科抽血窗口（请空腹）" * 3),
                               Table(("项目", "数量", "金额"), (("血常规检查（五分类）", "1", "¥25.00"),),
                                     weights=(3, 1, 2), align=("left", "right", "right"))))
    for columns in (32, 48):
        text = to_bytes(doc, columns=columns)
        body = text.split(CHINESE_MODE, 1)[1]
        for raw in body.split(b"\n"):
            line = raw.split(b"\x1d", 1)[0]
            clean = bytes(b for b in line if b >= 0x20 or b >= 0x80)
            try:
                decoded = clean.decode("gb18030")
            except UnicodeDecodeError:
                continue  # a command's parameters, not text
            if not any(ch in decoded for ch in "\x1b\x1d"):
                assert width(decoded) <= columns, decoded


def test_wrap_is_cjk_aware() -> None:
    assert wrap("张伟张伟张伟", 6) == ["张伟张", "伟张伟"]
    assert wrap("V20261123000042 abc", 10) == ["V202611230", "00042 abc"]
    assert width("𠮷野A") == 5
    assert encode("¥") == "￥".encode("gb18030")


def _settings(**kw) -> PrinterSettings:  # noqa: ANN003
    return PrinterSettings(**kw)


def test_network_printer_receives_the_slip() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    received = bytearray()

    def accept() -> None:
        conn, _ = server.accept()
        with conn:
            while chunk := conn.recv(65536):
                received.extend(chunk)

    reader = threading.Thread(target=accept)
    reader.start()
    doc = slip()
    result = print_slip(doc, _settings(kind="escpos_network", host="127.0.0.1", port=server.getsockname()[1]))
    reader.join(10)
    server.close()
    assert result.kind == "escpos_network" and result.target.startswith("127.0.0.1:")
    assert bytes(received) == to_bytes(doc)


def test_unreachable_network_printer_is_a_clear_error() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    with pytest.raises(PrintError, match="无法连接小票打印机（127.0.0.1:") as exc:
        print_slip(slip(), _settings(kind="escpos_network", host="127.0.0.1", port=port))
    assert exc.value.code == "printer_offline"


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_serial_printer_receives_the_slip() -> None:
    master, slave = os.openpty()
    import tty

    tty.setraw(slave)
    received = bytearray()
    expected = to_bytes(slip())

    def drain() -> None:
        while len(received) < len(expected):
            ready, _, _ = select.select([master], [], [], 5)
            if not ready:
                return
            received.extend(os.read(master, 65536))

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        print_slip(slip(), _settings(kind="escpos_serial", serial_device=os.ttyname(slave), baudrate=115200))
        reader.join(10)
    finally:
        os.close(slave)
        os.close(master)
    assert bytes(received) == expected


def test_missing_usb_printer_is_a_clear_error() -> None:
    with pytest.raises(PrintError, match="小票打印机"):
        print_slip(slip(), _settings(kind="escpos_usb", usb_vendor=0x0416, usb_product=0x5011))
