"""The demo residents of docs/demo-data.md, seeded into an empty sandbox."""

from __future__ import annotations

from bank_sandbox.engine import Bank

# (name, id_type, id_number, state, limit_fen, agreement_no); family members name their holder's ID number.
RESIDENTS = [
    ("张伟", "01", "510104198503121232", "holder", 500_000, "XYDEMO000001"),
    ("李娜", "01", "510104198707212347", "member:510104198503121232", 0, "QFDEMO000001"),
    ("张小明", "01", "510104201806150510", "member:510104198503121232", 0, "QFDEMO000002"),
    ("王芳", "01", "510105199001052020", "holder", 3_000, "XYDEMO000002"),
    ("刘洋", "01", "510106197811301014", "unsigned", 0, None),
    ("陈静", "01", "510107196505182020", "holder", 2_000_000, "XYDEMO000003"),
    ("𠮷野", "01", "510108199212123019", "holder", 200_000, "XYDEMO000004"),
    ("孙丽", "01", "510112198009092042", "holder", 5_000_000, "XYDEMO000005"),
    ("周杰", "01", "510104199511110036", "unsigned", 0, None),
    ("吴敏", "01", "510104200106064027", "terminated", 100_000, "XYDEMO000006"),
    ("黄志强", "02", "H12345678", "unsigned", 0, None),
    ("林美玲", "03", "12345678", "unsigned", 0, None),
    ("John Smith", "04", "P98765432", "unsigned", 0, None),
]
DEMO_RESERVE_FEN = 2_000_000  # ¥20,000: the plan's suggestion for a tertiary hospital


def seed_demo(bank: Bank, *, in_tx: bool = False) -> bool:
    """Seed only an empty sandbox; returns whether it seeded."""
    if in_tx:
        return _seed(bank)
    with bank.store.tx():
        return _seed(bank)


def _seed(bank: Bank) -> bool:
    if bank.store.one("SELECT 1 FROM resident LIMIT 1"):
        return False
    for name, kind, number, state, limit, agreement in RESIDENTS:
        rid = bank.create_resident(name, kind, number)["id"]
        if state in ("holder", "terminated"):
            bank.sign(rid, limit, agreement)
        if state == "terminated":
            bank.terminate(rid)
        if state.startswith("member:"):
            holder = bank.resident("01", state.split(":", 1)[1])["id"]
            bank.bind(holder, rid, agreement)
    bank.set_merchant(reserve_fen=DEMO_RESERVE_FEN, has_reserve=True)
    return True
