"""desktop-his-cli noshow mark: the day-end no-show step from the command line (a scheduled task)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from desktop_his import cli
from desktop_his.services.db import Database
from desktop_his.services.models import AuditRecord, Doctor, Patient, Visit
from tests import factories as f
from tests.test_cli import run  # noqa: F401 - the fixture


def test_noshow_mark_marks_yesterdays_registrations_once(run, tmp_path) -> None:  # noqa: ANN001, F811
    run("db", "upgrade")
    run("demo", "seed")
    db = Database.from_url(f"sqlite:///{tmp_path / 'data' / 'his.sqlite3'}")
    yesterday = date.today() - timedelta(days=1)
    try:
        with db.session() as s:
            patient = s.scalars(select(Patient).where(Patient.name == "刘洋")).one()
            doctor = s.scalars(select(Doctor)).first()
            slot = f.make_slot(s, doctor, yesterday, "EV")
            visit_id = f.make_visit(s, patient, slot, status="registered", fee_status="paid").id
        code, out, _ = run("noshow", "mark")
        assert code == 0 and f"{yesterday:%Y-%m-%d} 日终爽约：记爽约 1 人次" in out
        code, out, _ = run("noshow", "mark", "--date", f"{yesterday:%Y-%m-%d}")
        assert code == 0 and "记爽约 0 人次" in out  # safe to repeat
        code, _, err = run("noshow", "mark", "--date", f"{date.today() + timedelta(days=1):%Y-%m-%d}")
        assert code == cli.EXIT_FAILED and "未来日期" in err
        with pytest.raises(SystemExit):
            run("noshow", "mark", "--date", "昨天")
        with db.reader() as s:
            assert s.get(Visit, visit_id).status == "no_show"
            assert s.get(Patient, patient.id).noshow_count == 1
            assert s.scalars(select(AuditRecord.actor).where(AuditRecord.action == "registration.no_show")).all() \
                == ["system:noshow"]
    finally:
        db.dispose()
