"""Show a ``HisError(field=...)`` at the widget it belongs to: a red line under the field, focus on it,
cleared as soon as the user edits that field.

    errors = FieldErrors(self)
    form.addRow("科室名称", errors.add("name", self.name_edit))
    …
    ops.run(self, save, on_success=self.saved, errors=errors)   # a ValidationError(field="name") lands here
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QLabel, QLineEdit, QVBoxLayout, QWidget

from desktop_his.services.errors import HisError

ERROR_STYLE = "color: #c0392b;"


class FieldErrors(QObject):
    """Field name → (widget, error label). ``general`` (optional) receives errors with an unknown field."""

    def __init__(self, parent: QWidget, *, general: QLabel | None = None) -> None:
        super().__init__(parent)
        self._fields: dict[str, tuple[QWidget, QLabel]] = {}
        self._general = general
        if general is not None:
            _style(general)

    def add(self, field: str, widget: QWidget, *aliases: str) -> QWidget:
        """Register ``widget`` for ``field`` (and alias field names); returns the widget with its error line
        beneath, to put in the layout instead of the bare widget."""
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(widget)
        label = QLabel()
        label.setObjectName(f"{widget.objectName() or field}_error")
        label.setWordWrap(True)
        _style(label)
        label.hide()
        layout.addWidget(label)
        for name in (field, *aliases):
            self._fields[name] = (widget, label)
        _on_edit(widget, lambda *_: self.clear(field))
        return box

    def show(self, error: HisError) -> bool:
        """Show ``error`` at its field (or in the general label); False when there is no place for it."""
        return self.show_message(error.field, error.message)

    def show_message(self, field: str | None, message: str) -> bool:
        self.clear()
        if field in self._fields:
            widget, label = self._fields[field]
            label.setText(message)
            label.show()
            _focus(widget)
            return True
        if self._general is not None:
            self._general.setText(message)
            self._general.show()
            return True
        return False

    def clear(self, field: str | None = None) -> None:
        targets = [self._fields[field]] if field in self._fields else list(self._fields.values())
        for _widget, label in targets:
            label.clear()
            label.hide()
        if field is None and self._general is not None:
            self._general.clear()
            self._general.hide()

    def message(self, field: str) -> str:
        """The message shown at ``field`` ("" when none): for tests and accessibility tools."""
        _widget, label = self._fields[field]
        return label.text() if not label.isHidden() else ""

    def general_message(self) -> str:
        return self._general.text() if self._general is not None and not self._general.isHidden() else ""

    def shown(self) -> dict[str, str]:
        return {f: label.text() for f, (_w, label) in self._fields.items() if not label.isHidden()}


def _style(label: QLabel) -> None:
    label.setStyleSheet(ERROR_STYLE)


def _focus(widget: QWidget) -> None:
    from PySide6.QtCore import Qt  # not at import time: on the start-up path (see dialogs.login)

    target = widget
    if widget.focusPolicy() == Qt.FocusPolicy.NoFocus:  # a container (e.g. a row of check boxes)
        children = widget.findChildren(QWidget)
        target = next((c for c in children if c.isEnabled() and c.focusPolicy() != Qt.FocusPolicy.NoFocus),
                      widget)
    target.setFocus()
    if isinstance(target, QLineEdit):
        target.selectAll()


# Qt class name → the signal meaning "the user changed this". Matched with QObject.inherits(), which needs
# no Python import of each widget class (this module is on the start-up path).
_EDIT_SIGNALS = {
    "QLineEdit": "textEdited", "QComboBox": "currentIndexChanged", "QSpinBox": "valueChanged",
    "QDoubleSpinBox": "valueChanged", "QDateTimeEdit": "dateTimeChanged", "QAbstractButton": "toggled",
    "QPlainTextEdit": "textChanged",
}


def _edit_signal(widget: QWidget) -> str | None:
    return next((signal for kind, signal in _EDIT_SIGNALS.items() if widget.inherits(kind)), None)


def _on_edit(widget: QWidget, callback) -> None:  # noqa: ANN001
    """Connect whatever signal means "the user changed this" for the widget's kind (and its children)."""
    signal = _edit_signal(widget)
    if signal is not None:
        getattr(widget, signal).connect(callback)
        if widget.inherits("QComboBox") and widget.isEditable():
            widget.editTextChanged.connect(callback)
        return
    for child in widget.findChildren(QWidget):
        if _edit_signal(child) is not None:
            _on_edit(child, callback)
