"""``python -m desktop_his`` starts the application."""

from desktop_his.app import main

if __name__ == "__main__":
    raise SystemExit(main())
