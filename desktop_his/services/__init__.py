"""The Qt-free core: workflows, rules, storage, the bank gateway. Never import PySide6 here."""
