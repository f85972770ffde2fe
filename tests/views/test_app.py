"""Start-up: the backend opens (migrate, seed an empty demo database once, slots rolled forward); a failing
backend is reported on the login window with 重试; uncaught exceptions are logged and shown."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from desktop_his import app
from desktop_his.services.config import Settings
from desktop_his.services.models import Staff
from tests.gui import wait_ops


def settings(tmp_path, **changes) -> Settings:  # noqa: ANN001, ANN003
    return Settings(data_dir=tmp_path / "data", log_dir=tmp_path / "logs", workstation="WS-T", **changes)


def staff_count(backend: app.Backend) -> int:
    with backend.services.db.reader() as s:
        return s.execute(select(func.count()).select_from(Staff)).scalar_one()


@pytest.mark.slow  # real argon2id cost for the demo accounts, as at a first start
def test_open_backend_seeds_demo_once(tmp_path) -> None:  # noqa: ANN001
    first = app.open_backend(settings(tmp_path))
    try:
        assert first.hospital_name == "演示医院" and staff_count(first) > 10
        assert first.services.auth.login("admin", "admin123", workstation="WS-T").actor.username == "admin"
    finally:
        first.services.close()
        first.services.db.dispose()
    again = app.open_backend(settings(tmp_path))
    try:
        assert staff_count(again) == staff_count(first)
    finally:
        again.services.close()
        again.services.db.dispose()


def test_no_demo_data_with_a_real_bank(tmp_path) -> None:  # noqa: ANN001
    backend = app.open_backend(settings(tmp_path, bank_url="https://bank.example.com"))
    try:
        assert staff_count(backend) == 0 and not backend.services.demo_mode
    finally:
        backend.services.close()
        backend.services.db.dispose()


def test_backend_failure_shown_with_retry(qtbot, tmp_path) -> None:  # noqa: ANN001
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x", encoding="utf-8")
    controller = app.AppController(settings(tmp_path, database_url=f"sqlite:///{blocker}/his.sqlite3"))
    qtbot.addWidget(controller.login)
    controller.start()
    qtbot.waitUntil(lambda: controller.login.retry_button.isVisible(), timeout=20_000)
    wait_ops(qtbot)
    assert "无法打开数据库" in controller.login.errors.general_message()
    assert not controller.login.login_button.isEnabled()


def test_excepthook_logs_and_shows(qtbot, msgs, caplog) -> None:  # noqa: ANN001
    try:
        raise RuntimeError("unexpected 510104198503121232")
    except RuntimeError as exc:
        with caplog.at_level(logging.CRITICAL):
            app.excepthook(type(exc), exc, exc.__traceback__)
    assert "uncaught exception" in caplog.text
    [text] = msgs.texts("crash")
    assert "已记录到日志" in text


def test_real_bank_without_keys_starts_and_says_why(tmp_path) -> None:  # noqa: ANN001
    backend = app.open_backend(settings(tmp_path, bank_url="https://bank.example.com"))
    try:
        assert backend.services.bank is None and backend.services.credit is None
        assert "密钥" in backend.services.bank_problem
    finally:
        backend.services.close()
        backend.services.db.dispose()
