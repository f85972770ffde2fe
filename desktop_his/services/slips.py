"""Slips as documents: what is printed, independent of how (no Qt here).

A :class:`SlipDocument` is a title, the hospital, an ordered list of blocks (label/value fields, tables, free
text, separators), a prominent mark (``信用就医``, ``亲情付`` or the channel paid), an optional QR payload and a
footer. ``reprint=True`` makes every renderer show ``补打`` visibly. Renderers live in
``desktop_his/printing`` (QPainter → PDF/system printer in 80 mm, A5 and A4 layouts; ESC/POS for thermal printers)
and draw any document, so a new slip (the doctor's order slip, the vaccine slip, inpatient documents) is only a
new builder function here — see ``docs/printing.md``.

Privacy (SPEC §7): builders print ID numbers masked (``ids.mask_id_number``); names are printed intact, rare
characters included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from desktop_his.services.errors import HisError
from desktop_his.services.money import format_fen
from desktop_his.services.registration_views import VisitInfo
from desktop_his.services.texts import SLIP_MARK_CREDIT as MARK_CREDIT
from desktop_his.services.texts import SLIP_MARK_FAMILY as MARK_FAMILY

REPRINT_MARK = "补打"
__all__ = ["MARK_CREDIT", "MARK_FAMILY", "REPRINT_MARK", "Field", "Table", "Text", "Separator", "Spacer", "SlipCode",
           "SlipDocument", "PrintError", "registration_slip"]


class PrintError(HisError):
    """The slip could not be printed (printer missing, offline, out of paper …); the message says what to do."""


@dataclass(frozen=True)
class Field:
    label: str
    value: str
    big: bool = False  # shown large and centred (e.g. the queue number)


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    weights: tuple[int, ...] = ()  # relative column widths; default equal
    align: tuple[str, ...] = ()  # "left" / "right" / "center" per column; default left

    def column_weights(self) -> tuple[int, ...]:
        return self.weights or (1,) * len(self.columns)

    def column_align(self) -> tuple[str, ...]:
        return self.align or ("left",) * len(self.columns)


@dataclass(frozen=True)
class Text:
    text: str
    align: str = "left"
    size: str = "normal"  # "small" / "normal" / "large"
    bold: bool = False


@dataclass(frozen=True)
class Separator:
    pass


@dataclass(frozen=True)
class Spacer:
    """Vertical room, in lines of body text (a signed document's room between paragraphs and for signatures)."""

    lines: float = 1.0


Block = Field | Table | Text | Separator | Spacer


@dataclass(frozen=True)
class SlipCode:
    payload: str
    caption: str = ""
    kind: str = "qr"  # the only kind for now: every renderer draws QR natively


@dataclass(frozen=True)
class SlipDocument:
    kind: str  # "registration", "order", "vaccine" … (file names, per-kind printer choice)
    hospital: str
    title: str
    reference: str  # the visit/order number the slip is about
    blocks: tuple[Block, ...] = ()
    mark: str = ""
    code: SlipCode | None = None
    footer: tuple[str, ...] = ()
    reprint: bool = False
    printed_at: datetime | None = None
    meta: dict[str, str] = field(default_factory=dict, compare=False)
    # A document that must be printed on one page size (the A4 consent and statement) names its layout; the
    # printer's own layout (80 mm / A5) is then not used, and a receipt printer refuses it.
    layout: str = ""

    @property
    def heading(self) -> str:
        return f"{self.title}（{REPRINT_MARK}）" if self.reprint else self.title

    def plain_text(self) -> str:
        """Every printed word in reading order (logs, tests, previews without Qt)."""
        lines = [self.hospital, self.heading]
        if self.reprint:
            lines.append(REPRINT_MARK)
        if self.mark:
            lines.append(self.mark)
        for block in self.blocks:
            if isinstance(block, Field):
                lines.append(f"{block.label}：{block.value}")
            elif isinstance(block, Table):
                lines.append(" ".join(block.columns))
                lines += [" ".join(r) for r in block.rows]
            elif isinstance(block, Text):
                lines.append(block.text)
        if self.code and self.code.caption:
            lines.append(self.code.caption)
        return "\n".join(lines + list(self.footer))


def _visit_time(v: VisitInfo) -> str:
    hours = f" {v.start_time:%H:%M}-{v.end_time:%H:%M}" if v.start_time and v.end_time else ""
    return f"{v.visit_date:%Y-%m-%d} {v.period_label}{hours}".strip()


def registration_slip(v: VisitInfo, *, hospital: str, printed_at: datetime, workstation: str = "") -> SlipDocument:
    """The registration guide slip (挂号导诊单). ``v.reprint`` (from ``record_slip_printed``) marks 补打."""
    doctor = f"{v.doctor_name} {v.doctor_title}".strip()
    blocks: list[Block] = [
        Field("候诊号", f"{v.queue_no}号" if v.queue_no is not None else "—", big=True),
        Field("姓名", v.patient_name),
        Field("性别/年龄", f"{v.patient_sex_label} {v.patient_age}岁".strip()),
        Field("证件号", v.id_number_masked),
        Separator(),
        Field("科室", v.department_name),
        Field("医生", doctor or "—"),
        Field("就诊时间", _visit_time(v)),
        Field("就诊地点", v.location or v.department_name),
        Separator(),
        Field("挂号费", format_fen(v.fee_fen, symbol=True)),
        Field("支付方式", v.mark),
        Field("就诊号", v.visit_no),
        Field("挂号时间", f"{v.created_at:%Y-%m-%d %H:%M}"),
    ]
    footer = [
        f"请于就诊当天到{v.location or v.department_name}候诊，按叫号顺序就诊。",
        "退号请凭本单及证件办理，请妥善保管。",
        f"打印时间：{printed_at:%Y-%m-%d %H:%M}" + (f"  {workstation}" if workstation else ""),
    ]
    return SlipDocument(
        kind="registration", hospital=hospital, title="挂号导诊单", reference=v.visit_no, blocks=tuple(blocks),
        mark=v.mark, code=SlipCode(v.visit_no, caption=f"就诊号 {v.visit_no}"), footer=tuple(footer),
        reprint=v.reprint, printed_at=printed_at,
    )
