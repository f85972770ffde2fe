"""The log file never holds a full ID number or a cue-marked patient name (message, args or traceback)."""

from __future__ import annotations

import logging

import pytest

from desktop_his.services.logging_setup import MaskingFilter, mask_text, setup_logging


@pytest.mark.parametrize("raw, hidden, shown", [
    ("查询签约 510104198503121232 成功", "510104198503121232", "5101**********1232"),
    ("old id 510104850312123", "510104850312123", "5101*******2123"),
    ("id_number=11010519491231002x", "11010519491231002x", "1101**********002x"),
    ("港澳通行证 H12345678", "H12345678", "H1*****78"),
    ("passport: P98765432", "P98765432", "P9*****32"),
    ("证件号：12345678", "12345678", "12****78"),
    ("患者=张小明 挂号成功", "张小明", "患者=张**"),
    ("patient 𠮷野 registered", "𠮷野", "𠮷*"),
    ("guardian_name='张伟'", "张伟", "张*"),
    ("name=John Smith", "John Smith", "J*********"),
])
def test_mask_text(raw: str, hidden: str, shown: str) -> None:
    masked = mask_text(raw)
    assert hidden not in masked and shown in masked
    assert mask_text(masked) == masked  # idempotent: two handlers may see the same record


@pytest.mark.parametrize("text", [
    "visit V20261122000042 lock L20261122000001 on 20261122",
    "该居民退款失败", "患者本次使用“信用就医”额度支付总费用", "department 内科 slot 3/30",
])
def test_ordinary_text_untouched(text: str) -> None:
    assert mask_text(text) == text


def test_file_log_masks_args_and_tracebacks(tmp_path) -> None:  # noqa: ANN001
    root = logging.getLogger()
    path = setup_logging(tmp_path / "logs", level="INFO", console=False)
    try:
        log = logging.getLogger("desktop_his.test")
        log.info("registered 患者=%s id=%s", "李娜", "510104198707212347")
        try:
            raise ValueError("bad id_number=510104198707212347")
        except ValueError:
            log.exception("failed for 姓名：%s", "李娜")
    finally:
        for handler in [h for h in root.handlers if getattr(h, "_desktop_his", False)]:
            root.removeHandler(handler)
            handler.close()
    text = path.read_text(encoding="utf-8")
    assert "510104198707212347" not in text and "李娜" not in text
    assert "5101**********2347" in text and "李*" in text and "Traceback" in text


def test_filter_survives_a_broken_format_string() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%d items for 510104198707212347", ("a",), None)
    assert MaskingFilter().filter(record)
    assert "510104198707212347" not in record.getMessage()
