"""Inpatient documents' data, made by the real service on a throw-away SQLite database (what the desk prints)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from desktop_his.services.clock import ManualClock
from desktop_his.services.db import Database
from desktop_his.services.inpatient import ConsentInfo, ProxyInput, Statement
from desktop_his.services.models import Base
from tests import factories as f
from tests.services.inpatientfix import World, make_world

HOSPITAL = "成都市第一人民医院"
PROXY_ID = f.resident_id(date(1979, 5, 6), "F", serial=4321)
PROXY = ProxyInput("王秀英", "01", PROXY_ID)


def world(tmp_path: Path) -> World:
    db = Database.from_url(f"sqlite:///{tmp_path / 'docs.sqlite3'}")
    Base.metadata.create_all(db.engine)
    return make_world(db, ManualClock(datetime(2026, 11, 23, 9)))


def consent(w: World, *, proxy: ProxyInput | None) -> ConsentInfo:
    admission = w.admit(bed="12")
    c = w.svc.create_consent(w.clerk, admission.id, proxy=proxy)
    return w.svc.mark_consent_printed(w.clerk, c.id)


def statement(w: World, *, family_pay: bool = False, queued: bool = True) -> Statement:
    """Four days, three channels in, surplus back channel by channel (the credit refund queued)."""
    a = w.admit(bed="12", daily_bed_fen=12000).id
    w.svc.take_deposit(w.clerk, a, "cash", 100000, cash_received_fen=100000)
    w.svc.take_deposit(w.clerk, a, "wechat", 50000, "134567890123456789")
    w.received_consent(a)
    w.credit_pay(a, 300000, family_pay=family_pay)
    w.svc.post_charge(w.clerk, a, catalog_item_id=w.drug_id, quantity=6)
    w.svc.post_charge(w.clerk, a, catalog_item_id=w.lab_id, quantity=2)
    w.clock.set(datetime(2026, 11, 27, 10))
    view = w.svc.start_settlement(w.clerk, a)
    for line in view.lines:
        if line.channel == "credit":
            w.credit_refund(view.id, line.line_no, outcome="queued" if queued else "success")
        else:
            w.svc.refund_settlement_line(w.clerk, view.id, line.line_no)
    w.svc.complete_settlement(w.clerk, view.id)
    return w.svc.statement(w.clerk, view.id)
