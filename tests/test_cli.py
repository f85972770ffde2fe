"""desktop-his-cli: exit codes, Chinese messages, and the commands' effects on a real database."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import update

from desktop_his import cli
from desktop_his.services.db import Database
from desktop_his.services.models import AuditRecord


@pytest.fixture
def run(tmp_path, monkeypatch) -> Iterator:  # noqa: ANN001
    """``run("staff", "list") -> (exit code, stdout, stderr)`` against a throw-away SQLite database."""
    monkeypatch.setenv("DESKTOP_HIS_CONFIG_FILE", str(tmp_path / "settings.toml"))
    monkeypatch.setenv("DESKTOP_HIS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DESKTOP_HIS_LOG_DIR", str(tmp_path / "logs"))

    def invoke(*argv: str, stdin: str = "") -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        monkeypatch.setattr("sys.stdout", out)
        monkeypatch.setattr("sys.stderr", err)
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = cli.main(list(argv))
        return code, out.getvalue(), err.getvalue()

    yield invoke
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_desktop_his", False)]:
        root.removeHandler(handler)
        handler.close()


def test_fresh_database_needs_upgrade_first(run) -> None:  # noqa: ANN001
    code, out, _ = run("db", "current")
    assert code == cli.EXIT_DATABASE and "需要升级" in out
    code, _, err = run("staff", "list")
    assert code == cli.EXIT_DATABASE and "db upgrade" in err
    code, out, _ = run("db", "upgrade")
    assert code == 0 and "升级到" in out
    code, out, _ = run("db", "upgrade")
    assert code == 0 and "已是最新版本" in out
    assert run("db", "current")[0] == 0


def test_demo_seed_staff_add_passwd_and_login(run, tmp_path) -> None:  # noqa: ANN001
    run("db", "upgrade")
    code, out, _ = run("demo", "seed")
    assert code == 0 and "科室" in out and "患者 13" in out
    assert run("demo", "seed")[1].strip() == "演示数据已齐全，无需补充"
    code, out, _ = run("staff", "add", "Nurse2", "--name", "杨二", "--role", "immunization", "--role", "cashier",
                       "--department", "yfjz", "--password", "abc12345")
    assert code == 0 and "nurse2" in out and "预防接种" in out
    code, _, err = run("staff", "add", "nurse2", "--name", "重名", "--role", "cashier", "--password", "abc12345")
    assert code == cli.EXIT_FAILED and "已被使用" in err
    code, _, err = run("staff", "passwd", "nurse2", "--password-stdin", stdin="new12345\n")
    assert code == 0
    code, out, _ = run("staff", "list")
    assert "nurse2" in out and "admin" in out
    from desktop_his.services.auth import AuthService
    from desktop_his.services.clock import SystemClock
    db = Database.from_url(f"sqlite:///{tmp_path / 'data' / 'his.sqlite3'}")
    try:
        assert AuthService(db, SystemClock()).login("nurse2", "new12345", workstation="T").actor.department_id
    finally:
        db.dispose()


def test_bad_usage_and_bad_input(run) -> None:  # noqa: ANN001
    with pytest.raises(SystemExit) as usage:
        run("staff", "add", "x", "--name", "某", "--role", "bogus")
    assert usage.value.code == cli.EXIT_USAGE
    assert run()[0] == cli.EXIT_USAGE
    run("db", "upgrade")
    code, _, err = run("staff", "add", "weak", "--name", "某", "--role", "cashier", "--password", "short")
    assert code == cli.EXIT_FAILED and "至少 8 位" in err
    code, _, err = run("staff", "add", "nodept", "--name", "某", "--role", "cashier", "--department", "ZZ",
                       "--password", "abc12345")
    assert code == cli.EXIT_FAILED and "没有编码为“ZZ”的科室" in err


def test_audit_verify_detects_tampering(run, tmp_path) -> None:  # noqa: ANN001
    run("db", "upgrade")
    run("staff", "add", "adm", "--name", "管理", "--role", "admin", "--password", "abc12345")
    code, out, _ = run("audit", "verify")
    assert code == 0 and "共 1 条" in out
    db = Database.from_url(f"sqlite:///{tmp_path / 'data' / 'his.sqlite3'}")
    with db.session() as s:
        s.execute(update(AuditRecord).values(actor="someone-else"))
    db.dispose()
    code, out, _ = run("audit", "verify")
    assert code == cli.EXIT_FAILED and "篡改" in out


def test_slots_generate(run) -> None:  # noqa: ANN001
    run("db", "upgrade")
    run("demo", "seed")
    code, out, _ = run("slots", "generate", "--days", "10")
    assert code == 0 and "新增" in out


def test_bad_configuration_exits_2(run, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("DESKTOP_HIS_IDLE_LOCK_MINUTES", "soon")
    code, _, err = run("db", "current")
    assert code == cli.EXIT_USAGE and "配置" in err


def test_postgresql_through_the_url(run, pg_schema, monkeypatch) -> None:  # noqa: ANN001
    from tests.conftest import PG_URL

    monkeypatch.setenv("DESKTOP_HIS_DATABASE_URL", f"{PG_URL}?options=-csearch_path%3D{pg_schema.name}")
    assert run("db", "upgrade")[0] == 0
    code, out, _ = run("staff", "add", "pgadmin", "--name", "管理", "--role", "admin", "--password", "abc12345")
    assert code == 0
    assert "pgadmin" in run("staff", "list")[1]



def test_inpatient_bed_charges_job_runs_as_the_admission_desk(run, tmp_path) -> None:  # noqa: ANN001
    from datetime import date

    from sqlalchemy import select

    from desktop_his.services.clock import SystemClock
    from desktop_his.services.enums import Role
    from desktop_his.services.inpatient import InpatientService
    from desktop_his.services.models import Department, Doctor, Patient, Staff
    from desktop_his.services.permissions import Actor

    run("db", "upgrade")
    run("demo", "seed")
    db = Database.from_url(f"sqlite:///{tmp_path / 'data' / 'his.sqlite3'}")
    try:
        with db.reader() as s:
            patient = s.execute(select(Patient.id).where(Patient.name == "孙丽")).scalar_one()
            dept = s.execute(select(Department.id).where(Department.name == "内科")).scalar_one()
            doctor = s.execute(select(Doctor.id).where(Doctor.department_id == dept)).scalars().first()
            clerk = s.execute(select(Staff.id).where(Staff.username == "admission1")).scalar_one()
        actor = Actor(clerk, "admission1", "黄丽", frozenset({Role.ADMISSION}), "T")
        InpatientService(db, SystemClock()).admit(actor, patient, department_id=dept, ward="内科病区", bed="1",
                                                  doctor_id=doctor, diagnosis="肺炎", daily_bed_fen=6000)
        today = date.today().isoformat()
        code, out, _ = run("inpatient", "bed-charges", "--date", today)
        assert code == 0 and "在院 1 人" in out and "新计 1 个床日" in out and "¥60.00" in out
        code, out, _ = run("inpatient", "bed-charges", "--date", today)
        assert code == 0 and "新计 0 个床日" in out  # never twice
        code, out, _ = run("inpatient", "bed-charges")  # default: yesterday, before the admission
        assert code == 0 and "新计 0 个床日" in out
        with pytest.raises(SystemExit) as usage:
            run("inpatient", "bed-charges", "--date", "tomorrow")
        assert usage.value.code == cli.EXIT_USAGE
        with db.reader() as s:
            actors = s.execute(select(AuditRecord.actor).where(AuditRecord.action == "inpatient.bed_charged")
                               ).scalars().all()
            assert actors == ["system:bed-charges"]
    finally:
        db.dispose()
