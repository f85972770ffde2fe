"""Registration slips for the printing tests (built the way the registration service builds them)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time

from desktop_his.services.registration_views import VisitInfo
from desktop_his.services.slips import SlipDocument, registration_slip

FULL_ID = "510108199212123019"
MASKED_ID = "5101**********3019"
VISIT = VisitInfo(
    id=1, visit_no="V20261123000042", patient_id=7, patient_name="𠮷野", patient_sex_label="男", patient_age=33,
    id_type_label="居民身份证", id_number_masked=MASKED_ID, department_id=1, department_name="内科",
    location="门诊楼2楼 3诊室", doctor_id=1, doctor_name="李明", doctor_title="主任医师", visit_date=date(2026, 11, 23),
    period="AM", period_label="上午", start_time=time(8), end_time=time(12), queue_no=12, fee_fen=1500,
    fee_status="locked", fee_status_label="信用就医已锁定", status="registered", status_label="已挂号", credit=True,
    family_pay=False, mark="信用就医", created_at=datetime(2026, 11, 23, 9, 5), checked_in_at=None,
    cancelled_at=None, cancel_reason=None, slot_suspended=False, reprint_count=0,
)


def slip(*, mark: str = "信用就医", reprint: bool = False, name: str = "𠮷野") -> SlipDocument:
    visit = replace(VISIT, mark=mark, reprint=reprint, patient_name=name)
    return registration_slip(visit, hospital="成都市第一人民医院", printed_at=datetime(2026, 11, 23, 9, 6),
                             workstation="挂号窗口1")
