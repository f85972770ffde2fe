"""A small inpatient setting for the admission-desk tests: a ward department with a doctor, the admission
office (with its phone), an admission clerk, patients, catalogue items — and shortcuts that walk a credit
payment or refund through the seams the way the bank workflow will."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from desktop_his.services.clock import ManualClock
from desktop_his.services.db import Database
from desktop_his.services.enums import CatalogKind, DepartmentKind, Role, Sex
from desktop_his.services.inpatient import (
    AdmissionView,
    CreditPaymentRequest,
    CreditRefundRequest,
    InpatientService,
    ProxyInput,
)
from desktop_his.services.permissions import Actor
from tests import factories as f

OFFICE_PHONE = "028-86661234"


@dataclass
class World:
    db: Database
    clock: ManualClock
    svc: InpatientService
    clerk: Actor
    department_id: int
    other_department_id: int
    office_id: int
    doctor_id: int
    other_doctor_id: int
    patients: list[int]
    drug_id: int
    lab_id: int
    bed_seq: list[int] = field(default_factory=lambda: [0])

    def admit(self, patient: int | None = None, *, bed: str | None = None, daily_bed_fen: int = 6000,
              ward: str = "内科一病区") -> AdmissionView:
        if bed is None:
            self.bed_seq[0] += 1
            bed = str(self.bed_seq[0])
        return self.svc.admit(self.clerk, self.patients[0] if patient is None else patient,
                              department_id=self.department_id, ward=ward, bed=bed, doctor_id=self.doctor_id,
                              diagnosis="社区获得性肺炎", daily_bed_fen=daily_bed_fen)

    def new_patient(self, name: str | None = None) -> int:
        with self.db.session() as s:
            return f.make_patient(s, name).id

    def received_consent(self, admission_id: int, proxy: ProxyInput | None = None) -> int:
        consent = self.svc.create_consent(self.clerk, admission_id, proxy=proxy)
        self.svc.mark_consent_printed(self.clerk, consent.id)
        self.svc.mark_consent_received(self.clerk, consent.id)
        return consent.id

    def credit_pay(self, admission_id: int, amount_fen: int, *, purpose: str = "deposit", outcome: str = "success",
                   serial: str | None = None, family_pay: bool = False) -> CreditPaymentRequest:
        """pay check passed → pending payment → the bank's answer (what the bank engineer will compose)."""
        self.svc.prepare_credit_payment(self.clerk, admission_id, amount_fen, purpose=purpose)
        request = self.svc.start_credit_payment(self.clerk, admission_id, amount_fen, agreement_no="AG0001",
                                                family_pay=family_pay, purpose=purpose)
        if outcome != "unknown":
            self.svc.record_credit_payment_outcome(self.clerk, request.payment_id, outcome,
                                                   bank_serial=serial or f"BS{request.payment_no}")
        return request

    def credit_refund(self, settlement_id: int, line_no: int, outcome: str = "success") -> CreditRefundRequest:
        request = self.svc.submit_credit_refund(self.clerk, settlement_id, line_no)
        code = "DCBS0004PL0974" if outcome == "queued" else "E999" if outcome == "failed" else None
        message = "医药机构退款可用余额不足" if outcome == "queued" else "拒绝" if outcome == "failed" else None
        self.svc.record_credit_refund_outcome(self.clerk, request.refund_id, outcome, code=code, message=message,
                                              bank_serial=f"RS{request.refund_no}" if outcome == "success" else None)
        return request


def make_world(db: Database, clock: ManualClock, *, patients: int = 3) -> World:
    with db.session() as s:
        dept = f.make_department(s, "呼吸内科", location="住院部三楼")
        other = f.make_department(s, "普外科", location="住院部五楼")
        office = f.make_department(s, "住院处", kind=DepartmentKind.ADMINISTRATIVE, location="门诊楼一楼",
                                   phone=OFFICE_PHONE)
        doctor = f.make_doctor(s, dept, "陈医生", title="主治医师")
        other_doctor = f.make_doctor(s, other, "周医生")
        clerk = f.make_staff(s, Role.ADMISSION, full_name="刘住院", department=office)
        people = [f.make_patient(s, "孙丽", sex=Sex.FEMALE, birth=date(1980, 9, 9)).id]
        people += [f.make_patient(s).id for _ in range(patients - 1)]
        drug = f.make_catalog_item(s, "头孢曲松钠注射液", CatalogKind.DRUG, 4550, spec="1g")
        lab = f.make_catalog_item(s, "血常规", CatalogKind.LAB, 2500)
        ids = (dept.id, other.id, office.id, doctor.id, other_doctor.id, drug.id, lab.id)
        actor = f.actor_for(clerk, workstation="住院处-01")
    return World(db, clock, InpatientService(db, clock), actor, ids[0], ids[1], ids[2], ids[3], ids[4], people,
                 ids[5], ids[6])
