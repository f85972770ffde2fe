"""Every role × every action: allowed exactly where the matrix says, refused with a Chinese message elsewhere."""

from __future__ import annotations

import pytest

from desktop_his.services.enums import Role
from desktop_his.services.errors import PermissionDenied
from desktop_his.services.permissions import ACTION_LABELS, PERMISSIONS, Action, Actor, require

# The matrix written out independently of PERMISSIONS, so a change to either side fails the test.
EXPECTED = {
    Role.CASHIER: "patient.view patient.edit registration.create registration.check_in registration.cancel "
                  "registration.switch_to_credit payment.take payment.refund slip.reprint report.own_shift "
                  "notifications.view",
    Role.DOCTOR: "patient.view doctor.queue order.write order.revoke slip.reprint notifications.view",
    Role.IMMUNIZATION: "patient.view patient.edit vaccine.charge order.revoke payment.take payment.refund "
                       "slip.reprint report.own_shift notifications.view",
    Role.ADMISSION: "patient.view patient.edit patient.view_full_id inpatient.admit inpatient.charge "
                    "inpatient.deposit inpatient.settle payment.take payment.refund slip.reprint "
                    "report.own_shift notifications.view",
    Role.FINANCE: "finance.deduction finance.refund_queue finance.reconcile finance.merchant_balance "
                  "finance.reports report.own_shift day_end.no_shows admin.audit notifications.view",
    Role.ADMIN: "admin.staff admin.departments admin.doctors admin.schedules admin.suspend admin.prices "
                "admin.rules admin.bank admin.audit day_end.no_shows finance.reports patient.view "
                "notifications.view",
}


def actor(*roles: Role) -> Actor:
    return Actor(1, "u", "用户", frozenset(roles), "WS-1")


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(Action))
def test_matrix(role: Role, action: Action) -> None:
    allowed = action.value in EXPECTED[role].split()
    if allowed:
        require(actor(role), action)
    else:
        with pytest.raises(PermissionDenied) as err:
            require(actor(role), action)
        assert ACTION_LABELS[action] in err.value.message


def test_expected_matrix_covers_the_real_one() -> None:
    assert {r: {a.value for a in acts} for r, acts in PERMISSIONS.items()} == {
        r: set(v.split()) for r, v in EXPECTED.items()}


def test_roles_combine() -> None:
    both = actor(Role.CASHIER, Role.IMMUNIZATION)
    require(both, Action.REGISTER)
    require(both, Action.VACCINE_CHARGE)


def test_no_roles_refused() -> None:
    with pytest.raises(PermissionDenied, match="无角色"):
        require(actor(), Action.PATIENT_VIEW)


def test_system_actor_runs_finance_jobs_only() -> None:
    job = Actor.system("FIN-PC")
    require(job, Action.DEDUCTION_RUN)
    with pytest.raises(PermissionDenied):
        require(job, Action.REGISTER)
