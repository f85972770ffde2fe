"""The doctor station's GUI test world: the small hospital of ``tests.factories`` on a bank-connected
Services, plus what the registration window does (register, check in, 信用就医 confirm + fee lock) done
through the services as another PC would."""

from __future__ import annotations

from dataclasses import dataclass

from desktop_his.services.container import Services
from desktop_his.services.models import Slot
from tests.factories import Hospital, make_demo_patient, make_hospital, make_visit


@dataclass
class DocWorld:
    services: Services
    h: Hospital

    def visit(self, name: str, *, credit: bool = False, status: str = "checked_in") -> int:
        """A registration of the demo person ``name``; ``credit``: confirmed at the window (fee locked)."""
        services = self.services
        with services.db.session() as s:
            visit = make_visit(s, make_demo_patient(s, name), s.get(Slot, self.h.slot.id), status=status,
                               fee_status="unpaid" if credit else "paid")
            visit_id, patient_id = visit.id, visit.patient_id
        if credit:
            sign = services.credit.sign_status(self.h.cashier_actor, patient_id)
            assert services.credit.use_credit(self.h.cashier_actor, visit_id, sign).state == "locked"
        return visit_id

    def available(self, number: str = "510104198503121232") -> int:
        return self.services.sandbox.admin.account("01", number)["available_fen"]


def make_doc_world(services: Services) -> DocWorld:
    with services.db.session() as s:
        h = make_hospital(s, services.clock.today())
    return DocWorld(services, h)
