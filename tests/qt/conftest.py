"""Same GUI fixtures as tests/views: Chinese fonts and translation, message boxes recorded."""

from tests.views.conftest import chinese_ui, gui_thread_gc, msgs  # noqa: F401 - fixtures re-exported
