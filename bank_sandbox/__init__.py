"""The 信用就医 bank sandbox: a bank that speaks the project's wire protocol over HTTP.

It is the bank, so it never imports ``desktop_his``; the app reaches it only over HTTP. Start it in-process
with :func:`start_background` (demo mode, tests) or standalone with ``python -m bank_sandbox``.
"""

from bank_sandbox.admin import AdminClient, AdminError
from bank_sandbox.server import (
    DEMO_ADMIN_TOKEN,
    DEMO_DATA_KEY,
    DEMO_MERCHANT_ID,
    DEMO_MERCHANT_KEY,
    RunningSandbox,
    Sandbox,
    start_background,
)

__all__ = ["AdminClient", "AdminError", "DEMO_ADMIN_TOKEN", "DEMO_DATA_KEY", "DEMO_MERCHANT_ID",
           "DEMO_MERCHANT_KEY", "RunningSandbox", "Sandbox", "start_background"]
