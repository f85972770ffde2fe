"""The admission desk's GUI test world: a clinical department with its ward and doctor, the admission office
(with its phone, printed on the consent), a bed price, the demo residents the bank sandbox knows, a clerk and a
finance clerk — plus shortcuts for what other desks (or earlier days) did through the services."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy import select

from desktop_his.services.container import Services
from desktop_his.services.enums import CatalogKind, DepartmentKind, Role
from desktop_his.services.inpatient import AdmissionView
from desktop_his.services.models import AuditRecord
from desktop_his.services.permissions import Actor
from tests import factories as f
from tests.helpers import add_staff

OFFICE_PHONE = "028-86661234"


@dataclass
class DeskWorld:
    services: Services
    clerk: Actor
    finance: Actor
    department_id: int
    office_id: int
    doctor_id: int

    def patient(self, name: str) -> int:
        with self.services.db.session() as s:
            return f.make_demo_patient(s, name).id

    def admit(self, name: str, bed: str, *, daily_bed_fen: int = 0) -> AdmissionView:
        return self.services.inpatient.admit(self.clerk, self.patient(name), department_id=self.department_id,
                                             ward="内科病区", bed=bed, doctor_id=self.doctor_id, diagnosis="肺炎",
                                             daily_bed_fen=daily_bed_fen)

    def consent(self, admission_id: int) -> None:
        svc = self.services.inpatient
        consent = svc.create_consent(self.clerk, admission_id)
        svc.mark_consent_printed(self.clerk, consent.id)
        svc.mark_consent_received(self.clerk, consent.id)

    def available(self, name: str) -> int:
        return self.services.sandbox.admin.account("01", f.DEMO_PEOPLE[name][2])["available_fen"]

    def audit_actions(self) -> list[str]:
        with self.services.db.reader() as s:
            return list(s.execute(select(AuditRecord.action).order_by(AuditRecord.seq)).scalars())


def make_desk_world(services: Services) -> DeskWorld:
    with services.db.session() as s:
        internal = f.make_department(s, "内科", location="门诊楼二楼")
        f.make_department(s, "内科病区", kind=DepartmentKind.WARD, location="住院楼5楼")
        office = f.make_department(s, "住院处", kind=DepartmentKind.ADMINISTRATIVE, location="住院楼1楼",
                                   phone=OFFICE_PHONE)
        doctor = f.make_doctor(s, internal, "王建国", title="主任医师")
        f.make_catalog_item(s, "床位费（双人间）", CatalogKind.BED, 6000, unit="日")
        ids = internal.id, office.id, doctor.id
    clerk = add_staff(services, "admission1", Role.ADMISSION, full_name="黄丽", department_id=ids[1])
    finance = add_staff(services, "finance1", Role.FINANCE, full_name="钱国强")
    return DeskWorld(services, clerk, finance, *ids)


def pdf_text(path: Path | str) -> str:
    """Every word of the PDF as one line (the extractor turns spaces into tabs and wraps long paragraphs)."""
    text = "".join(page.extract_text() for page in PdfReader(str(path)).pages)
    return text.replace("\t", " ").replace("\n", "")
