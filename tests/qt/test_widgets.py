"""Field errors, the table model and proxy (qtmodeltester), the money edit, idle detection, fonts and Qt's
Chinese buttons."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QFontDatabase, QFontInfo, QMouseEvent, QRawFont
from PySide6.QtWidgets import QApplication, QCheckBox, QDialogButtonBox, QLabel, QLineEdit, QWidget

from desktop_his.qt.field_errors import FieldErrors
from desktop_his.qt.idle_lock import IdleWatcher
from desktop_his.qt.money_edit import MoneyEdit
from desktop_his.qt.table_model import MUTED, RIGHT, SORT_ROLE, Column, FilterProxy, RecordTableModel
from desktop_his.services.errors import ValidationError


def test_field_error_shown_focused_and_cleared_on_edit(qtbot) -> None:  # noqa: ANN001
    form = QWidget()
    qtbot.addWidget(form)
    name, flag = QLineEdit(), QCheckBox()
    name.setObjectName("department_name")
    general = QLabel()
    errors = FieldErrors(form, general=general)
    form_name = errors.add("name", name)
    form_name.setParent(form)
    errors.add("active", flag).setParent(form)
    form.show()
    qtbot.waitExposed(form)
    assert errors.show(ValidationError("请输入科室名称", field="name"))
    label = form.findChild(QLabel, "department_name_error")
    assert label.text() == "请输入科室名称" and label.isVisible() and form.focusWidget() is name
    qtbot.keyClicks(name, "n")  # QTest types ASCII only
    assert errors.message("name") == "" and not label.isVisible()
    assert errors.show(ValidationError("别处的问题", field="elsewhere"))
    assert errors.general_message() == "别处的问题"
    errors.show(ValidationError("请勾选", field="active"))
    flag.toggle()
    assert errors.shown() == {}


@dataclass(frozen=True)
class Row:
    id: int
    name: str
    pinyin: str
    fee_fen: int
    active: bool = True


def make_model() -> RecordTableModel:
    columns = [Column("名称", lambda r: r.name), Column("挂号费", lambda r: f"{r.fee_fen / 100:.2f}",
                                                       sort=lambda r: r.fee_fen, align=RIGHT)]
    model = RecordTableModel(columns, search=lambda r: f"{r.name} {r.pinyin}", muted=lambda r: not r.active)
    model.set_rows([Row(1, "内科", "nk", 1500), Row(2, "儿科", "ek", 800), Row(3, "口腔科", "kqk", 5000, False)])
    return model


def test_table_model_and_proxy(qtmodeltester) -> None:  # noqa: ANN001
    model = make_model()
    qtmodeltester.check(model)
    proxy = FilterProxy(model)
    qtmodeltester.check(proxy)
    proxy.set_text("nk")
    assert proxy.rowCount() == 1 and proxy.row_at(proxy.index(0, 0)).name == "内科"
    proxy.set_text("科")
    assert proxy.rowCount() == 3
    proxy.set_predicate(lambda r: r.active)
    assert proxy.rowCount() == 2
    proxy.set_predicate(None)
    proxy.set_text("")
    proxy.sort(1, Qt.SortOrder.AscendingOrder)  # by fen, not by the text "15.00" < "8.00"
    assert [proxy.row_at(proxy.index(i, 0)).id for i in range(3)] == [2, 1, 3]
    assert model.index(0, 1).data(SORT_ROLE) == 1500
    assert model.index(2, 0).data(Qt.ItemDataRole.ForegroundRole) == MUTED
    assert model.headerData(1, Qt.Orientation.Horizontal) == "挂号费"


def test_money_edit_holds_fen(qtbot) -> None:  # noqa: ANN001
    edit = MoneyEdit()
    qtbot.addWidget(edit)
    qtbot.keyClicks(edit, "12.345")
    assert edit.text() == "12.34" and edit.fen() == 1234  # the third decimal is refused as typed
    edit.set_fen(5000)
    assert edit.text() == "50.00" and edit.fen() == 5000
    edit.clear()
    qtbot.keyClicks(edit, "-3abc")
    assert edit.text() == "3" and edit.fen() == 300
    edit.clear()
    assert edit.fen() is None


def test_idle_watcher_fires_and_input_resets_it(qtbot) -> None:  # noqa: ANN001
    target = QWidget()
    qtbot.addWidget(target)
    watcher = IdleWatcher(150)
    try:
        with qtbot.waitSignal(watcher.idle, timeout=2000):
            pass
        fired = []
        watcher.idle.connect(lambda: fired.append(1))
        watcher.set_timeout(200)
        for _ in range(4):  # keep moving for ~300 ms: never idle
            qtbot.wait(70)
            move = QMouseEvent(QEvent.Type.MouseMove, QPointF(5, 5), QPointF(5, 5), Qt.MouseButton.NoButton,
                               Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
            QApplication.sendEvent(target, move)
        assert fired == []
        watcher.pause()
        qtbot.wait(300)
        assert fired == []
        watcher.set_timeout(0)  # 0 = never lock, whatever the input
        watcher.resume()
        QApplication.sendEvent(target, move)
        qtbot.wait(100)
        assert fired == []
    finally:
        watcher.stop()


def test_bundled_font_renders_chinese(qapp) -> None:  # noqa: ANN001
    font = qapp.font()
    assert font.families()[0] == "WenQuanYi Micro Hei"
    assert "WenQuanYi Micro Hei" in QFontDatabase.families()
    assert QFontInfo(font).family() == "WenQuanYi Micro Hei"
    raw = QRawFont.fromFont(font)  # the font actually used: every character below has a glyph, no boxes
    assert raw.familyName() == "WenQuanYi Micro Hei"
    assert all(raw.supportsCharacter(ord(ch)) for ch in "信用就医挂号收费演示模式￥¥0123456789ABCxyz")


def test_qt_standard_buttons_are_chinese(qtbot) -> None:  # noqa: ANN001
    box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    qtbot.addWidget(box)
    texts = {b.text().replace("&", "") for b in box.buttons()}
    assert any(t.startswith("确定") for t in texts) and any(t.startswith("取消") for t in texts)
