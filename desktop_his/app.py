"""Start-up: settings → logging → crash handler → QApplication (font, translation, style) → login window →
(in the background, while the user types) database, migrations, demo seed, bank, services → main window.

The login window is shown before anything heavy is imported (SQLAlchemy, the domain model, Alembic): those
load on a worker while the window is already on screen. ``bench/startup.py`` measures it.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any

from desktop_his.services.config import Settings, load_settings
from desktop_his.services.errors import ConfigError, HisError
from desktop_his.services.logging_setup import setup_logging

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from desktop_his.services.container import Services

log = logging.getLogger("desktop_his.app")
_T0 = time.perf_counter()
PROBE_ENV = "DESKTOP_HIS_STARTUP_PROBE"  # bench/startup.py: print the time the login window showed, then exit


class Backend:
    """What the start-up worker hands to the GUI: the services and the hospital's name."""

    __slots__ = ("services", "hospital_name")

    def __init__(self, services: Services, hospital_name: str) -> None:
        self.services = services
        self.hospital_name = hospital_name


def open_backend(settings: Settings) -> Backend:
    """Worker thread: database, migrations, demo seed, bank, services. Heavy imports happen here."""
    from desktop_his.services.container import build_services, connect_bank, prepare_database

    started = time.perf_counter()
    services = build_services(settings)
    try:
        report = prepare_database(services)
        if report is not None:
            log.info("demo data seeded: %s", report.created)
        connect_bank(services)
        name = services.hospital.hospital_name()
    except BaseException:
        services.close()
        services.db.dispose()
        raise
    log.info("backend ready in %.2f s (%s)", time.perf_counter() - started, _database_kind(settings))
    return Backend(services, name)


def _database_kind(settings: Settings) -> str:
    url = settings.effective_database_url
    return "SQLite" if url.startswith("sqlite") else "PostgreSQL"


class AppController:
    """Owns the login window, the backend and the main window; shows the login again after a logout."""

    def __init__(self, settings: Settings, *, backend: Backend | None = None,
                 idle_timeout_ms: int | None = None) -> None:
        from desktop_his.dialogs.login import LoginDialog

        self.settings = settings
        self.backend = backend
        self.idle_timeout_ms = idle_timeout_ms
        self.main_window: Any = None
        self.login = LoginDialog(hospital_name=settings.hospital_name, workstation=settings.workstation,
                                 demo=settings.demo_mode)
        self.login.logged_in.connect(self._logged_in)
        self.login.retry_requested.connect(self._open_backend)
        if backend is not None:
            self.login.set_backend(backend.services, hospital_name=backend.hospital_name)

    def start(self) -> None:
        """Show the login window; the backend opens once it is on screen."""
        if self.backend is None:
            self.login.first_shown.connect(self._open_backend)
        self.login.show()

    def _open_backend(self) -> None:
        from desktop_his.qt import ops

        settings = self.settings
        log.info("desktop_his starting (workstation %s, %s, %s)", settings.workstation, _database_kind(settings),
                 "demo mode" if settings.demo_mode else "bank " + settings.bank_url)
        ops.run(self.login, lambda: open_backend(settings), on_success=self._backend_ready,
                on_failure=self._backend_failed)

    def _backend_ready(self, backend: Backend) -> None:
        self.backend = backend
        if os.environ.get(PROBE_ENV) == "backend":  # packaging smoke test: the whole start-up worked
            print(f"BACKEND_READY bank={'yes' if backend.services.bank else 'no'} "
                  f"login={'yes' if self.login.isVisible() else 'no'}", flush=True)
            os._exit(0)
        self.login.set_backend(backend.services, hospital_name=backend.hospital_name)
        if not backend.services.demo_mode and not _has_staff(backend.services):
            self.login.set_status("尚无任何账号：请先用 desktop-his-cli staff add 创建管理员")

    def _backend_failed(self, error: BaseException) -> None:
        text = error.message if isinstance(error, HisError) else f"{type(error).__name__}: {error}"
        log.error("backend start failed", exc_info=(type(error), error, error.__traceback__))
        if os.environ.get(PROBE_ENV) == "backend":
            print(f"BACKEND_FAILED {text}", flush=True)
            os._exit(1)
        self.login.set_backend_error(f"无法打开数据库：{text}\n请检查数据库设置或网络后点“重试”。")

    def _logged_in(self, result: Any) -> None:
        from desktop_his.dialogs.login import ChangePasswordDialog

        services = self.backend.services
        if result.must_change_password:
            dialog = ChangePasswordDialog(services, result.actor, forced=True, parent=self.login)
            if not dialog.exec():
                from desktop_his.qt import ops

                ops.run(None, lambda: services.auth.logout(result.actor, reason="password_change_declined"))
                return
        self._show_main(result.actor)

    def _show_main(self, actor: Any) -> None:
        from desktop_his.views.main_window import MainWindow

        self.main_window = MainWindow(self.backend.services, actor, hospital_name=self.backend.hospital_name,
                                      idle_timeout_ms=self.idle_timeout_ms)
        self.main_window.logged_out.connect(self._logged_out)
        self.main_window.show()
        self.login.hide()

    def _logged_out(self) -> None:
        window, self.main_window = self.main_window, None
        if window is not None:
            window.deleteLater()
        self.login.reset()
        self.login.show()

    def shutdown(self) -> None:
        from desktop_his.qt import ops

        ops.shutdown()
        if self.backend is not None:
            self.backend.services.close()
            self.backend.services.db.dispose()


def _has_staff(services: Services) -> bool:
    try:
        return services.auth.any_staff()
    except Exception:  # noqa: BLE001 - only a hint on the login window
        return True


# ---------------------------------------------------------------------------------------- crash handling

_in_crash_dialog = False


def excepthook(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
    """Log every uncaught exception and show it; nothing dies silently (STYLE §11)."""
    global _in_crash_dialog
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, tb)
        return
    import traceback

    details = "".join(traceback.format_exception(kind, error, tb))
    log.critical("uncaught exception\n%s", details)
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is None or _in_crash_dialog or threading.current_thread() is not threading.main_thread():
        return
    _in_crash_dialog = True
    try:
        from desktop_his.dialogs import messages

        messages.crash(None, "程序遇到意外错误，已记录到日志。\n当前的操作可能没有完成，请检查后重试；"
                             "如果反复出现，请把日志文件交给信息科。", details)
    finally:
        _in_crash_dialog = False


def _thread_excepthook(args: threading.ExceptHookArgs) -> None:
    log.critical("uncaught exception in thread %s", getattr(args.thread, "name", "?"),
                 exc_info=(args.exc_type, args.exc_value, args.exc_traceback))


def _qt_message_handler(mode: Any, context: Any, message: str) -> None:
    from PySide6.QtCore import QtMsgType

    if "propagateSizeHints" in message:  # offscreen platform noise
        return
    level = {QtMsgType.QtDebugMsg: logging.DEBUG, QtMsgType.QtInfoMsg: logging.INFO,
             QtMsgType.QtWarningMsg: logging.WARNING}.get(mode, logging.ERROR)
    logging.getLogger("qt").log(level, "%s", message)


# -------------------------------------------------------------------------------------------------- main


def make_application(argv: list[str]) -> QApplication:
    from PySide6.QtCore import qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    from desktop_his import APP_NAME
    from desktop_his.qt import gc_guard, locale_setup

    qInstallMessageHandler(_qt_message_handler)
    app = QApplication(argv)
    app.setApplicationName(APP_NAME)
    locale_setup.apply(app)
    gc_guard.install(app)  # cyclic garbage collected on the GUI thread only (see qt/gc_guard.py)
    return app


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        return _fatal_config(argv, exc)
    setup_logging(settings.log_dir, level=settings.log_level)
    sys.excepthook = excepthook
    threading.excepthook = _thread_excepthook
    app = make_application(argv)
    controller = AppController(settings)
    if os.environ.get(PROBE_ENV) == "1":
        controller.login.first_shown.connect(_probe_and_exit)
    controller.start()
    code = app.exec()
    controller.shutdown()
    log.info("desktop_his stopped")
    return code


def _probe_and_exit() -> None:
    """Start-up benchmark: report the moment the login window is on screen, then leave at once."""
    print(f"LOGIN_SHOWN {time.perf_counter() - _T0:.4f}", flush=True)
    os._exit(0)


def _fatal_config(argv: list[str], error: ConfigError) -> int:
    """A broken settings file: say so in a window (a GUI app may have no console)."""
    print(f"配置错误：{error.message}", file=sys.stderr)
    try:
        from desktop_his.dialogs import messages

        app = make_application(argv)
        messages.error(None, f"配置错误，程序无法启动：\n{error.message}", title="desktop_his")
        app.quit()
    except Exception:  # noqa: BLE001 - no display: the console message above is all we can do
        pass
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
