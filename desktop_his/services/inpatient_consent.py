"""The written consent (书面确权, plan 附件1) for paying an inpatient stay with 信用就医 (session level).

Life of a consent: created (optionally naming a proxy — 代理人 — with a validated document) → printed on A4
(:func:`inpatient_docs.consent_document`) → signed on paper by the patient (委托人) → the clerk confirms the
signed paper is in the file (``received``). A 信用就医 deposit or discharge collection is refused until the
admission has a received consent (:func:`received_consent`). A wrong consent is not edited: the clerk
creates a new one; the latest received one counts. Every step is audited with ID numbers masked; only the
printed paper carries them in full.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop_his.services import audit, ids
from desktop_his.services.enums import AdmissionStatus, IdType
from desktop_his.services.errors import Conflict, NotFound, ValidationError
from desktop_his.services.inpatient_account import get_admission
from desktop_his.services.inpatient_charges import publish
from desktop_his.services.inpatient_types import ConsentInfo, ConsentView, ProxyInput
from desktop_his.services.models import Admission, CreditConsent, Department, Patient
from desktop_his.services.permissions import Actor


def consent_view(c: CreditConsent) -> ConsentView:
    return ConsentView(c.id, c.admission_id, c.patient_id, c.proxy_name, c.proxy_id_type,
                       ids.mask_id_number(c.proxy_id_number) or None, c.printed_at, c.received_at)


def validate_proxy(proxy: ProxyInput, patient: Patient, today: date) -> tuple[str, str, str]:
    """(name, ID type, normalised number) of the proxy; the proxy is someone other than the patient."""
    name = ids.normalize_name(proxy.name, field="proxy_name")
    if proxy.id_type not in set(IdType):
        raise ValidationError("请选择代理人的证件类型", field="proxy_id_type")
    parsed = ids.parse_id(proxy.id_type, proxy.id_number, today=today, field="proxy_id_number")
    if (parsed.id_type, parsed.number) == (patient.id_type, patient.id_number):
        raise ValidationError("代理人不能是患者本人；本人办理请不填代理人", field="proxy_id_number")
    return name, parsed.id_type.value, parsed.number


def lock_consent(s: Session, consent_id: int) -> CreditConsent:
    consent = s.execute(select(CreditConsent).where(CreditConsent.id == consent_id).with_for_update()
                        .execution_options(populate_existing=True)).scalar_one_or_none()
    if consent is None:
        raise NotFound("未找到该书面确权记录", field="consent_id", code="consent_not_found")
    return consent


def create(s: Session, actor: Actor, admission_id: int, proxy: ProxyInput | None, now: datetime) -> CreditConsent:
    admission = get_admission(s, admission_id, for_update=True)
    if admission.status == AdmissionStatus.SETTLED:
        raise Conflict("该患者已出院结算，无需再办理书面确权", code="admission_settled")
    patient = s.get(Patient, admission.patient_id)
    assert patient is not None
    name = id_type = number = None
    if proxy is not None:
        name, id_type, number = validate_proxy(proxy, patient, now.date())
    consent = CreditConsent(admission_id=admission.id, patient_id=patient.id, proxy_name=name, proxy_id_type=id_type,
                            proxy_id_number=number, workstation=actor.workstation)
    s.add(consent)
    s.flush()
    audit.append(s, actor=actor, action="inpatient.consent_created", at=now, entity="credit_consent",
                 entity_id=consent.id, detail={"admission_no": admission.admission_no, "proxy": proxy is not None,
                                               "proxy_name": ids.mask_name(name),
                                               "proxy_id_number": ids.mask_id_number(number)})
    publish(s, admission)
    return consent


def consent_info(s: Session, consent: CreditConsent, office_phone: str, *, reprint: bool = False) -> ConsentInfo:
    admission = s.get(Admission, consent.admission_id)
    patient = s.get(Patient, consent.patient_id)
    assert admission is not None and patient is not None
    department = s.get(Department, admission.department_id)
    return ConsentInfo(
        consent_id=consent.id, admission_no=admission.admission_no, patient_name=patient.name,
        patient_id_type=patient.id_type, patient_id_number=patient.id_number, proxy_name=consent.proxy_name,
        proxy_id_type=consent.proxy_id_type, proxy_id_number=consent.proxy_id_number,
        department_name=department.name if department else "", ward=admission.ward, bed=admission.bed,
        office_phone=office_phone, reprint=reprint,
    )


def office_phone(s: Session, actor: Actor) -> str:
    """The admission office's phone for the consent's 咨询电话 line: the clerk's own department's."""
    department = s.get(Department, actor.department_id) if actor.department_id else None
    return department.phone if department else ""


def mark_printed(s: Session, actor: Actor, consent_id: int, now: datetime) -> ConsentInfo:
    consent = lock_consent(s, consent_id)
    reprint = consent.printed_at is not None
    if not reprint:
        consent.printed_at, consent.printed_by = now, actor.staff_id
    s.flush()
    admission = s.get(Admission, consent.admission_id)
    assert admission is not None
    audit.append(s, actor=actor, action="inpatient.consent_printed", at=now, entity="credit_consent",
                 entity_id=consent.id, detail={"admission_no": admission.admission_no, "reprint": reprint})
    return consent_info(s, consent, office_phone(s, actor), reprint=reprint)


def mark_received(s: Session, actor: Actor, consent_id: int, now: datetime) -> CreditConsent:
    consent = lock_consent(s, consent_id)
    admission = get_admission(s, consent.admission_id, for_update=True)
    if consent.printed_at is None:
        raise Conflict("请先打印书面确权书，由患者或代理人签字后再登记收回", code="consent_not_printed")
    if consent.received_at is not None:
        raise Conflict(f"该书面确权已于 {consent.received_at:%Y-%m-%d %H:%M} 登记收回", code="consent_received")
    if admission.status == AdmissionStatus.SETTLED:
        raise Conflict("该患者已出院结算", code="admission_settled")
    consent.received_at, consent.received_by = now, actor.staff_id
    s.flush()
    audit.append(s, actor=actor, action="inpatient.consent_received", at=now, entity="credit_consent",
                 entity_id=consent.id, detail={"admission_no": admission.admission_no,
                                               "proxy": consent.proxy_name is not None})
    publish(s, admission)
    return consent


def received_consent(s: Session, admission_id: int) -> CreditConsent | None:
    """The latest consent of the admission whose signed paper was received, if any."""
    return s.execute(select(CreditConsent).where(CreditConsent.admission_id == admission_id,
                                                 CreditConsent.received_at.is_not(None))
                     .order_by(CreditConsent.id.desc()).limit(1)).scalar_one_or_none()


def consents(s: Session, admission_id: int) -> list[ConsentView]:
    rows = s.execute(select(CreditConsent).where(CreditConsent.admission_id == admission_id)
                     .order_by(CreditConsent.id)).scalars()
    return [consent_view(c) for c in rows]
