"""Printing the order slip (导诊单) and the vaccination slip: the guide-slip data from the doctor queue service,
laid out by ``services.order_slips``, printed the way this workstation's printer settings say (same paths as
the registration slip: system printer 80 mm / A5, ESC/POS, or PDF files). Blocking: run on the ``io`` lane."""

from __future__ import annotations

from typing import TYPE_CHECKING

from desktop_his.services.order_slips import order_slip_document
from desktop_his.views.inpatient.common import print_document

if TYPE_CHECKING:
    from desktop_his.printing import PrintResult
    from desktop_his.services.container import Services
    from desktop_his.services.permissions import Actor


def print_order_slip(services: Services, actor: Actor, visit_id: int, *, vaccine: bool = False) -> PrintResult:
    slip = services.doctor_queue.order_slip(actor, visit_id)
    document = order_slip_document(slip, hospital=services.hospital.hospital_name(),
                                   printed_at=services.clock.now(), workstation=services.settings.workstation,
                                   vaccine=vaccine)
    return print_document(services, document)
