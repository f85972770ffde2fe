"""Patients: find them fast at a busy window, create and correct them with full real-name validation.

Search takes whatever the cashier typed or the card reader produced: an ID number (exact, normalised, any
document type), a phone number (the patient's or a child's guardian's), pinyin initials (``zw`` → 张伟) or a
part of the name (rare characters such as 𠮷 included). Rows come back as :class:`PatientRow` dataclasses with
the ID number masked unless the actor may see it in full (``Action.PATIENT_VIEW_FULL_ID``).

Validation (SPEC §5): every document type through :mod:`desktop_his.services.ids`. A 居民身份证 carries the
sex and birth date, which must not contradict what was typed; other documents need both entered. A child
(≤ ``RegistrationRules.child_max_age`` on the day of creation) needs a guardian: name, document, phone and
relation. The same document twice is refused with :class:`DuplicatePatient`, which names the existing record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from desktop_his.services import audit, ids, pinyin
from desktop_his.services.clock import Clock
from desktop_his.services.db import Database
from desktop_his.services.enums import SEX_LABELS, IdType, Sex
from desktop_his.services.errors import Conflict, NotFound, ValidationError
from desktop_his.services.models import Patient
from desktop_his.services.permissions import Action, Actor, require
from desktop_his.services.rules_config import RegistrationRules, load_rules

GUARDIAN_RELATIONS = ("父亲", "母亲", "祖父", "祖母", "外祖父", "外祖母", "其他监护人")
SEARCH_LIMIT = 50


@dataclass(frozen=True)
class PatientInput:
    """What the create/edit form (or a card read) supplies. ``sex``/``birth_date`` may stay empty for a
    居民身份证: the number carries them."""

    name: str
    id_type: str
    id_number: str
    sex: str | None = None
    birth_date: date | None = None
    phone: str = ""
    address: str = ""
    guardian_name: str | None = None
    guardian_id_type: str | None = None
    guardian_id_number: str | None = None
    guardian_phone: str | None = None
    guardian_relation: str | None = None


@dataclass(frozen=True)
class PatientRow:
    """A patient as a view shows it. ``id_number`` is masked unless the actor may see it in full."""

    id: int
    name: str
    id_type: str
    id_type_label: str
    id_number: str
    id_number_masked: str
    sex: str
    sex_label: str
    birth_date: date
    age: int
    phone: str
    address: str
    guardian_name: str | None
    guardian_id_type: str | None
    guardian_id_number: str | None  # masked like id_number
    guardian_phone: str | None
    guardian_relation: str | None
    noshow_count: int
    blacklisted_until: date | None

    def blacklisted_on(self, day: date) -> bool:
        return self.blacklisted_until is not None and day < self.blacklisted_until


class DuplicatePatient(Conflict):
    """The document is already on file; ``existing`` is that patient (offer it to the cashier)."""

    def __init__(self, existing: PatientRow) -> None:
        super().__init__(
            f"该证件已建档：{existing.name}（{existing.sex_label}，{existing.birth_date:%Y-%m-%d}，"
            f"证件号 {existing.id_number_masked}），请直接选用该患者",
            field="id_number", code="duplicate_patient",
        )
        self.existing = existing


def to_row(p: Patient, *, full_id: bool, today: date) -> PatientRow:
    masked = ids.mask_id_number(p.id_number)
    return PatientRow(
        id=p.id, name=p.name, id_type=p.id_type, id_type_label=ids.ID_TYPE_LABELS.get(IdType(p.id_type), ""),
        id_number=p.id_number if full_id else masked, id_number_masked=masked, sex=p.sex,
        sex_label=SEX_LABELS.get(Sex(p.sex), ""), birth_date=p.birth_date, age=ids.age_on(p.birth_date, today),
        phone=p.phone, address=p.address, guardian_name=p.guardian_name, guardian_id_type=p.guardian_id_type,
        guardian_id_number=p.guardian_id_number if full_id else ids.mask_id_number(p.guardian_id_number) or None,
        guardian_phone=p.guardian_phone,
        guardian_relation=p.guardian_relation, noshow_count=p.noshow_count,
        blacklisted_until=p.blacklisted_until,
    )


# ------------------------------------------------------------------------------------------ validation


def _sex_and_birth(data: PatientInput, parsed: ids.ParsedId, today: date) -> tuple[Sex, date]:
    typed_sex = Sex(data.sex) if data.sex else None
    if data.sex and data.sex not in {s.value for s in Sex}:
        raise ValidationError("请选择性别", field="sex")
    if parsed.id_type is IdType.RESIDENT:
        assert parsed.sex is not None and parsed.birth_date is not None
        if typed_sex is not None and typed_sex is not parsed.sex:
            raise ValidationError(
                f"性别与身份证号码不符（号码显示为{SEX_LABELS[parsed.sex]}性），请核对", field="sex")
        if data.birth_date is not None and data.birth_date != parsed.birth_date:
            raise ValidationError(
                f"出生日期与身份证号码不符（号码显示为{parsed.birth_date:%Y-%m-%d}），请核对", field="birth_date")
        return parsed.sex, parsed.birth_date
    if typed_sex is None:
        raise ValidationError("请选择性别", field="sex")
    if data.birth_date is None:
        raise ValidationError("请输入出生日期", field="birth_date")
    if data.birth_date > today or data.birth_date.year < 1900:
        raise ValidationError("出生日期无效，请核对", field="birth_date")
    return typed_sex, data.birth_date


def _guardian(data: PatientInput, child: bool, patient_number: str, rules: RegistrationRules,
              today: date) -> dict[str, Any]:
    empty = {"guardian_name": None, "guardian_id_type": None, "guardian_id_number": None,
             "guardian_phone": None, "guardian_relation": None}
    if not child and not (data.guardian_name or "").strip():
        return empty  # an adult may have no guardian on file
    need = f"{rules.child_max_age}周岁及以下儿童须登记监护人" if child else "请完整填写监护人信息"
    if not (data.guardian_name or "").strip():
        raise ValidationError(f"{need}：请输入监护人姓名", field="guardian_name")
    name = ids.normalize_name(data.guardian_name or "", field="guardian_name")
    if not data.guardian_id_type:
        raise ValidationError(f"{need}：请选择监护人证件类型", field="guardian_id_type")
    parsed = ids.parse_id(data.guardian_id_type, data.guardian_id_number or "", today=today,
                          field="guardian_id_number")
    if parsed.number == patient_number:
        raise ValidationError("监护人证件号码不能与患者本人相同", field="guardian_id_number")
    if parsed.birth_date is not None and ids.age_on(parsed.birth_date, today) <= rules.child_max_age:
        raise ValidationError("监护人应为成年人，请核对监护人证件", field="guardian_id_number")
    phone = ids.validate_phone(data.guardian_phone or "", field="guardian_phone", required=True)
    relation = (data.guardian_relation or "").strip()
    if not relation:
        raise ValidationError("请选择与患者的关系", field="guardian_relation")
    if len(relation) > 20:
        raise ValidationError("关系描述过长（最多20个字）", field="guardian_relation")
    return {"guardian_name": name, "guardian_id_type": parsed.id_type.value, "guardian_id_number": parsed.number,
            "guardian_phone": phone, "guardian_relation": relation}


def validate(data: PatientInput, *, today: date, rules: RegistrationRules) -> dict[str, Any]:
    """Check every field; return the normalised column values. Raises ValidationError at the first bad field."""
    name = ids.normalize_name(data.name)
    parsed = ids.parse_id(data.id_type, data.id_number, today=today)
    sex, birth = _sex_and_birth(data, parsed, today)
    child = ids.age_on(birth, today) <= rules.child_max_age
    # An adult is reached on their own phone; a child through the guardian, their own phone is optional.
    phone = ids.validate_phone(data.phone, required=not child)
    address = re.sub(r"\s+", " ", (data.address or "").strip())
    if len(address) > 200:
        raise ValidationError("地址过长（最多200个字）", field="address")
    return {
        "name": name, "pinyin": pinyin.initials(name)[:50], "id_type": parsed.id_type.value,
        "id_number": parsed.number, "sex": sex.value, "birth_date": birth, "phone": phone, "address": address,
        **_guardian(data, child, parsed.number, rules, today),
    }


# --------------------------------------------------------------------------------------------- search


_ID_LIKE = re.compile(r"[0-9]{6,}[0-9X]?|[HM][0-9]{8,10}|[A-Z]{1,2}[0-9]{5,15}")
_PHONE_LIKE = re.compile(r"\+?[0-9][0-9-]{5,}")


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_conditions(query: str) -> list[Any]:
    """One WHERE clause per kind of key the query could be (see the module docstring). Each runs as its own
    query so the indexed ones (document, phone) stay index look-ups instead of one OR that scans."""
    q = (query or "").strip()
    if not q:
        return []
    normal = ids.normalize_id_number(q)
    conditions = []
    if _ID_LIKE.fullmatch(normal):
        # id_type first so the (id_type, id_number) unique index serves the look-up.
        conditions.append(and_(Patient.id_type.in_([t.value for t in IdType]), Patient.id_number == normal))
    digits = normal.replace("-", "")
    if _PHONE_LIKE.fullmatch(normal) and len(digits) <= 15:
        conditions += [Patient.phone == digits, Patient.guardian_phone == digits]
    if re.fullmatch(r"[A-Za-z]+", q):
        conditions.append(Patient.pinyin.like(_like_escape(q.lower()) + "%", escape="\\"))
    if not conditions or not normal.isdigit():
        # Name substring: Chinese (rare characters too) or a Latin name such as "Smith".
        conditions.append(func.lower(Patient.name).like("%" + _like_escape(q.lower()) + "%", escape="\\"))
    return conditions


# -------------------------------------------------------------------------------------------- service


class PatientService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def search(self, actor: Actor, query: str, *, limit: int = SEARCH_LIMIT) -> list[PatientRow]:
        """Patients matching an ID number, phone, pinyin initials or part of the name; exact hits first."""
        require(actor, Action.PATIENT_VIEW)
        found: dict[int, Patient] = {}
        with self.db.reader() as s:
            for condition in search_conditions(query):
                rows = s.execute(select(Patient).where(condition).order_by(Patient.name, Patient.id).limit(limit * 2))
                found.update((p.id, p) for p in rows.scalars())
        q = (query or "").strip()
        normal = ids.normalize_id_number(q)
        ranked = sorted(found.values(), key=lambda p: (p.id_number != normal and p.phone != normal and p.name != q,
                                  not p.pinyin.startswith(q.lower()), len(p.name), p.id))
        return [self._row(actor, p) for p in ranked[:limit]]

    def find_by_document(self, actor: Actor, id_type: str, id_number: str) -> PatientRow | None:
        """The patient with exactly this document (a card read), or None."""
        require(actor, Action.PATIENT_VIEW)
        parsed = ids.parse_id(id_type, id_number, today=self.clock.today())
        with self.db.reader() as s:
            p = _by_document(s, parsed.id_type.value, parsed.number)
            return self._row(actor, p) if p else None

    def get(self, actor: Actor, patient_id: int) -> PatientRow:
        require(actor, Action.PATIENT_VIEW)
        with self.db.reader() as s:
            return self._row(actor, _get(s, patient_id))

    def create(self, actor: Actor, data: PatientInput) -> PatientRow:
        """Validate and file a new patient (audited). Raises ValidationError or DuplicatePatient."""
        require(actor, Action.PATIENT_EDIT)
        now = self.clock.now()
        try:
            with self.db.session() as s:
                values = validate(data, today=now.date(), rules=load_rules(s))
                existing = _by_document(s, values["id_type"], values["id_number"])
                if existing is not None:
                    raise DuplicatePatient(self._row(actor, existing))
                patient = Patient(**values, created_at=now, created_by=actor.staff_id)
                s.add(patient)
                s.flush()
                audit.append(s, actor=actor, action="patient.created", at=now, entity="patient",
                             entity_id=patient.id, detail=_audit_detail(values))
                return self._row(actor, patient)
        except IntegrityError:
            # Another window filed the same document between our check and our insert.
            raise self._duplicate(actor, data) from None

    def update(self, actor: Actor, patient_id: int, data: PatientInput) -> PatientRow:
        """Correct a patient's record with the same validation as ``create`` (audited: changed fields)."""
        require(actor, Action.PATIENT_EDIT)
        now = self.clock.now()
        try:
            with self.db.session() as s:
                patient = _get(s, patient_id)
                data = _unmask(data, patient)
                values = validate(data, today=now.date(), rules=load_rules(s))
                other = _by_document(s, values["id_type"], values["id_number"])
                if other is not None and other.id != patient.id:
                    raise DuplicatePatient(self._row(actor, other))
                changed = {k: v for k, v in values.items() if getattr(patient, k) != v}
                for key, value in changed.items():
                    setattr(patient, key, value)
                s.flush()
                if changed:
                    audit.append(s, actor=actor, action="patient.updated", at=now, entity="patient",
                                 entity_id=patient.id, detail=_audit_detail(changed))
                return self._row(actor, patient)
        except IntegrityError:
            raise self._duplicate(actor, data) from None

    def _duplicate(self, actor: Actor, data: PatientInput) -> Conflict:
        try:
            parsed = ids.parse_id(data.id_type, data.id_number)
        except ValidationError:
            return Conflict("保存时发生冲突，请重试", code="conflict")
        with self.db.reader() as s:
            existing = _by_document(s, parsed.id_type.value, parsed.number)
            if existing is None:
                return Conflict("保存时发生冲突，请重试", code="conflict")
            return DuplicatePatient(self._row(actor, existing))

    def _row(self, actor: Actor, p: Patient) -> PatientRow:
        return to_row(p, full_id=actor.can(Action.PATIENT_VIEW_FULL_ID), today=self.clock.today())


def _get(s: Session, patient_id: int) -> Patient:
    patient = s.get(Patient, patient_id)
    if patient is None:
        raise NotFound("未找到该患者", code="patient_not_found")
    return patient


def _by_document(s: Session, id_type: str, number: str) -> Patient | None:
    return s.execute(
        select(Patient).where(Patient.id_type == id_type, Patient.id_number == number)
    ).scalar_one_or_none()


def _audit_detail(values: dict[str, Any]) -> dict[str, Any]:
    """What changed, with documents masked and names shortened (the audit log is a log: SPEC §7)."""
    detail: dict[str, Any] = {}
    for key, value in values.items():
        if key in {"id_number", "guardian_id_number"}:
            value = ids.mask_id_number(value)
        elif key in {"name", "guardian_name"}:
            value = ids.mask_name(value)
        elif key in {"phone", "guardian_phone"}:
            value = ids.mask_phone(value)
        elif key == "address":
            value = "（已修改）" if value else ""
        detail[key] = value.isoformat() if isinstance(value, date) else value
    return detail


def edit_form(row: PatientRow) -> PatientInput:
    """The edit form pre-filled from a row. Document numbers stay as shown (masked for most roles):
    ``update`` keeps the stored number when it gets back the masked form unchanged."""
    return PatientInput(name=row.name, id_type=row.id_type, id_number=row.id_number, sex=row.sex,
                        birth_date=row.birth_date, phone=row.phone, address=row.address,
                        guardian_name=row.guardian_name, guardian_id_type=row.guardian_id_type,
                        guardian_id_number=row.guardian_id_number, guardian_phone=row.guardian_phone,
                        guardian_relation=row.guardian_relation)


def _unmask(data: PatientInput, patient: Patient) -> PatientInput:
    """Masked numbers coming back from an edit form mean "unchanged"."""
    changes: dict[str, Any] = {}
    if "*" in (data.id_number or "") and data.id_number == ids.mask_id_number(patient.id_number):
        changes["id_number"] = patient.id_number
    masked_guardian = ids.mask_id_number(patient.guardian_id_number)
    if "*" in (data.guardian_id_number or "") and data.guardian_id_number == masked_guardian:
        changes["guardian_id_number"] = patient.guardian_id_number
    return replace(data, **changes) if changes else data
