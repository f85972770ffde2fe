"""The services container: every service built once at start-up and handed to the views and the CLI.

No global: ``app.py`` (and ``cli.py``, and tests) call :func:`build_services` and pass the result on; each view
takes what it needs from it. To add a service: give it a field below (with a one-line comment), build it in
:func:`build_services` from what is already built, and close it in :meth:`Services.close` if it holds
resources. Tests pass their own ``clock``, ``db`` and (for speed) a cheap password ``hasher``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from argon2 import PasswordHasher

from desktop_his.services import db as dbmod
from desktop_his.services.admin.catalog_admin import CatalogAdminService
from desktop_his.services.admin.hospital import HospitalSettingsService
from desktop_his.services.admin.organisation import OrganisationService
from desktop_his.services.admin.scheduling import SchedulingService
from desktop_his.services.admin.staff import StaffService
from desktop_his.services.auth import AuthService
from desktop_his.services.clock import Clock, SystemClock
from desktop_his.services.config import Settings
from desktop_his.services.demo import DemoReport, seed_demo
from desktop_his.services.errors import HisError
from desktop_his.services.inpatient import InpatientService
from desktop_his.services.live_hub import ChangeFeed
from desktop_his.services.notifications import NotificationService
from desktop_his.services.patients import PatientService
from desktop_his.services.permissions import Actor

if TYPE_CHECKING:
    from bank_sandbox import RunningSandbox
    from desktop_his.services.bank import BankGateway
    from desktop_his.services.credit import CreditService
    from desktop_his.services.deduction import DeductionService
    from desktop_his.services.inpatient_bank import InpatientCreditService
    from desktop_his.services.reconciliation import ReconciliationService
    from desktop_his.services.refunds import RefundQueue
    from desktop_his.services.reports import ReportService

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    db: dbmod.Database
    clock: Clock
    feed: ChangeFeed  # live change feed: one watcher, many subscribers (qt.live_bridge.LiveSignal)
    auth: AuthService  # login, screen unlock, logout, own password change
    staff: StaffService  # staff accounts and roles
    organisation: OrganisationService  # departments and doctors
    scheduling: SchedulingService  # weekly schedules, slot generation, slot overview
    catalog: CatalogAdminService  # the price list
    hospital: HospitalSettingsService  # hospital name, registration rules, this PC's bank connection
    notifications: NotificationService  # department inboxes (该居民退款失败 …)
    patients: PatientService  # patient search and files
    inpatient: InpatientService  # admission desk: admit, running account, deposits, consent, settlement
    # The bank side, set by connect_bank() (None until then: tests without a bank, the CLI's offline commands).
    bank: BankGateway | None = None  # the journaled 信用就医 gateway
    credit: CreditService | None = None  # confirm → lock, order locks, cancel/refund per table 1
    refunds: RefundQueue | None = None  # the DCBS0004PL0974 refund queue
    inpatient_credit: InpatientCreditService | None = None  # admission desk: 信用就医 pay and refund
    sandbox: RunningSandbox | None = None  # demo mode: the in-process bank sandbox
    bank_problem: str = ""  # why the bank side is not connected (shown by the views that need it)
    # branch finance: the T-day deduction run and the bank bill reconciliation (set by connect_bank)
    deduction: DeductionService | None = None  # T-day deduction: claim, journal, send concurrently, resume
    reconciliation: ReconciliationService | None = None  # bill download, line-by-line matching, kept runs
    reports: ReportService | None = None  # shift and day-end reports (no bank needed; set by build_services)
    # Later: registration, orders, immunization, inpatient, deduction, reconciliation …
    closers: list[Callable[[], None]] = field(default_factory=list)  # run by close(), last added first

    @property
    def demo_mode(self) -> bool:
        return self.settings.demo_mode

    def close(self) -> None:
        """Stop background work and release connections (at exit, and at the end of a test)."""
        for closer in reversed(self.closers):
            try:
                closer()
            except Exception:  # noqa: BLE001 - closing must reach every resource
                log.exception("closing a service failed")
        self.closers.clear()
        self.feed.close()


def build_services(settings: Settings, *, clock: Clock | None = None, db: dbmod.Database | None = None,
                   hasher: PasswordHasher | None = None, config_path: Path | None = None) -> Services:
    """Build every service. ``db`` defaults to the configured database (not migrated here: see app/cli)."""
    clock = clock or SystemClock()
    db = db or dbmod.Database.from_url(settings.effective_database_url)
    auth = AuthService(db, clock, hasher=hasher)
    services = Services(
        settings=settings, db=db, clock=clock, feed=ChangeFeed(db), auth=auth,
        staff=StaffService(db, clock, auth),
        organisation=OrganisationService(db, clock),
        scheduling=SchedulingService(db, clock),
        catalog=CatalogAdminService(db, clock),
        hospital=HospitalSettingsService(db, clock, settings, config_path=config_path),
        notifications=NotificationService(db, clock),
        patients=PatientService(db, clock),
        inpatient=InpatientService(db, clock),
    )
    from desktop_his.services.reports import ReportService  # branch finance

    services.reports = ReportService(db, clock)
    return services


def connect_bank(services: Services, *, base_url: str | None = None, resolver_interval: float | None = 30.0) -> None:
    """Connect the 信用就医 side: in demo mode start the in-process bank sandbox (its state in the data
    folder), build the gateway, register every workflow's outcome handler, then start the resolver, whose
    first pass resolves whatever an earlier run left open. ``base_url`` overrides the bank's address (tests);
    ``resolver_interval=None`` starts no resolver thread (tests drive ``resolve_pending`` themselves)."""
    from desktop_his.services.bank import ResolverThread, build_gateway
    from desktop_his.services.credit import CreditService
    from desktop_his.services.inpatient_bank import InpatientCreditService
    from desktop_his.services.refunds import RefundQueue

    settings = services.settings
    if base_url is None and settings.demo_mode:
        import bank_sandbox

        services.sandbox = bank_sandbox.start_background(settings.data_dir / "bank_sandbox.sqlite3", demo=True)
        services.closers.append(services.sandbox.stop)
        base_url = services.sandbox.url
    try:
        gateway = build_gateway(settings, services.db, services.clock, base_url=base_url)
    except HisError as exc:  # e.g. no merchant key in the keyring yet: the administrator must still log in
        services.bank_problem = exc.message
        log.warning("bank not connected: %s", exc.message)
        return
    services.closers.append(gateway.close)
    services.bank = gateway
    services.credit = CreditService(services.db, services.clock, gateway)
    services.refunds = RefundQueue(services.db, services.clock, gateway)
    services.inpatient_credit = InpatientCreditService(services.db, services.clock, gateway, services.inpatient)
    for register in (services.credit.register_handlers, services.inpatient_credit.register_handlers):
        register()
    # branch finance
    from desktop_his.services.deduction import DeductionService
    from desktop_his.services.reconciliation import ReconciliationService

    services.deduction = DeductionService(services.db, services.clock, gateway, host=settings.workstation)
    services.reconciliation = ReconciliationService(services.db, services.clock, gateway)
    if resolver_interval is not None:
        resolver = ResolverThread(gateway, interval=resolver_interval)
        resolver.start()
        services.closers.append(resolver.stop)


def prepare_database(services: Services, *, migrate: bool = True) -> DemoReport | None:
    """Start-up work on the database: migrate to the newest schema; in demo mode seed an empty database
    (``Settings.demo_seed``) and bring the demo slots up to today + the booking window.

    Returns what the seed created (None when no seeding was due)."""
    if migrate:
        dbmod.upgrade(services.db)
    settings = services.settings
    if not settings.demo_mode:
        return None
    report = None
    if settings.demo_seed and not services.auth.any_staff():
        log.info("empty database in demo mode: seeding demo data")
        report = seed_demo(services.db, services.clock, hash_password=services.auth.hash_password,
                           workstation=settings.workstation)
    # Demo slots roll forward day by day without an administrator (a hospital generates them on purpose).
    services.scheduling.generate_slots_unattended(Actor.system(settings.workstation, "demo-slots"))
    return report
