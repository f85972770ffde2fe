"""Qt plumbing shared by every view: the operation helper (``ops``), field errors, table models, the money
edit, fonts and translation, the idle lock and the live-feed bridge."""
