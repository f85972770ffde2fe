"""``desktop-his-cli``: jobs and administration from a terminal or a scheduled task. No Qt here.

Exit codes: 0 done; 1 the operation was refused or failed (Chinese message on stderr); 2 bad usage or
configuration; 3 the database is unreachable or its schema is not the newest (run ``db upgrade``).

Adding a command: write a function ``(ctx, args) -> int`` and decorate it::

    @command("refunds", "retry", help="按提交顺序重试退款队列", args=[arg("--date", help="业务日期")])
    def refunds_retry(ctx: CliContext, args: argparse.Namespace) -> int:
        report = ctx.services.refunds.retry_queue(ctx.actor)
        ctx.out(report.summary())
        return 0

``ctx.services`` is the same :class:`~desktop_his.services.container.Services` the app builds (schema checked);
``ctx.actor`` is the command-line administrator, ``ctx.job_actor(name)`` a scheduled job's finance actor.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop_his import __version__
from desktop_his.services.config import Settings, load_settings
from desktop_his.services.errors import ConfigError, HisError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_DATABASE = 0, 1, 2, 3

Runner = Callable[["CliContext", argparse.Namespace], int]


@dataclass(frozen=True)
class Command:
    path: tuple[str, ...]  # ("staff", "add") or ("settle",)
    help: str
    run: Runner
    args: tuple[tuple[tuple[str, ...], dict[str, Any]], ...] = ()


COMMANDS: list[Command] = []
GROUP_HELP = {"db": "数据库结构", "demo": "演示数据", "staff": "人员账号", "audit": "审计日志", "slots": "号源",
              "inpatient": "住院"}


def arg(*names: str, **kwargs: Any) -> tuple[tuple[str, ...], dict[str, Any]]:
    """One ``add_argument`` call, written as ``arg("--name", required=True, help="姓名")``."""
    return names, kwargs


def command(*path: str, help: str, args: Sequence[tuple[tuple[str, ...], dict[str, Any]]] = ()
            ) -> Callable[[Runner], Runner]:
    def register(run: Runner) -> Runner:
        COMMANDS.append(Command(tuple(path), help, run, tuple(args)))
        return run
    return register


class DatabaseNotReady(Exception):
    pass


@dataclass
class CliContext:
    """What a command needs, built lazily so ``--help`` and ``db upgrade`` stay cheap."""

    config: Path | None = None
    stdout: Any = field(default_factory=lambda: sys.stdout)
    _settings: Settings | None = None
    _services: Any = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            env = None
            if self.config is not None:
                env = {**os.environ, "DESKTOP_HIS_CONFIG_FILE": str(self.config)}
            self._settings = load_settings(env)
        return self._settings

    @property
    def services(self) -> Any:
        """The services container on the configured database, whose schema must be at head."""
        if self._services is None:
            from desktop_his.services import db as dbmod
            from desktop_his.services.container import build_services

            services = build_services(self.settings)
            try:
                current, head = dbmod.current_revision(services.db), dbmod.head_revision()
            except Exception as exc:
                services.close()
                raise DatabaseNotReady(f"无法连接数据库：{exc}") from exc
            if current != head:
                services.close()
                raise DatabaseNotReady(f"数据库结构版本为 {current or '空'}，最新为 {head}；"
                                       "请先运行 desktop-his-cli db upgrade")
            self._services = services
        return self._services

    @property
    def actor(self) -> Any:
        """The administrator at the command line (whoever may run this can reach the database anyway)."""
        from desktop_his.services.enums import Role
        from desktop_his.services.permissions import Actor

        return Actor(None, f"cli:{getpass.getuser()}", "命令行管理", frozenset({Role.ADMIN}),
                     self.settings.workstation)

    def job_actor(self, job: str, *roles: Any) -> Any:
        """A scheduled job's actor: finance rights, or the ``roles`` of the desk the job works for."""
        from desktop_his.services.permissions import Actor

        if roles:
            return Actor.system(self.settings.workstation, job, roles=frozenset(roles))
        return Actor.system(self.settings.workstation, job)

    def out(self, text: str) -> None:
        print(text, file=self.stdout)

    def close(self) -> None:
        if self._services is not None:
            self._services.close()
            self._services.db.dispose()


# ------------------------------------------------------------------------------------------------ db


@command("db", "upgrade", help="把数据库结构升级到最新版本（首次使用前、升级软件后）")
def db_upgrade(ctx: CliContext, args: argparse.Namespace) -> int:
    from desktop_his.services import db as dbmod

    database = dbmod.Database.from_url(ctx.settings.effective_database_url)
    try:
        before = dbmod.current_revision(database)
        dbmod.upgrade(database)
        after = dbmod.current_revision(database)
    except Exception as exc:
        raise DatabaseNotReady(f"升级失败：{exc}") from exc
    finally:
        database.dispose()
    ctx.out(f"数据库结构已是最新版本：{after}" if before == after else f"数据库结构已从 {before or '空'} 升级到 {after}")
    return EXIT_OK


@command("db", "current", help="显示数据库地址和结构版本")
def db_current(ctx: CliContext, args: argparse.Namespace) -> int:
    from desktop_his.services import db as dbmod

    database = dbmod.Database.from_url(ctx.settings.effective_database_url)
    try:
        current, head = dbmod.current_revision(database), dbmod.head_revision()
    except Exception as exc:
        raise DatabaseNotReady(f"无法连接数据库：{exc}") from exc
    finally:
        database.dispose()
    ctx.out(f"数据库：{database.engine.url.render_as_string(hide_password=True)}")
    ctx.out(f"当前版本：{current or '空（未建表）'}；最新版本：{head}")
    if current != head:
        ctx.out("需要升级：desktop-his-cli db upgrade")
        return EXIT_DATABASE
    return EXIT_OK


# ---------------------------------------------------------------------------------------------- demo


@command("demo", "seed", help="补齐演示数据（科室、医生、排班与号源、价目表、人员、患者；可重复运行）")
def demo_seed(ctx: CliContext, args: argparse.Namespace) -> int:
    from desktop_his.services.demo import seed_demo

    services = ctx.services
    report = seed_demo(services.db, services.clock, hash_password=services.auth.hash_password,
                       workstation=ctx.settings.workstation)
    if not report.total:
        ctx.out("演示数据已齐全，无需补充")
    else:
        labels = {"departments": "科室", "doctors": "医生", "schedules": "排班", "slots": "号源",
                  "catalog": "收费项目", "staff": "人员账号", "patients": "患者"}
        ctx.out("已补充演示数据：" + "，".join(f"{labels.get(k, k)} {n}" for k, n in report.created.items()))
    return EXIT_OK


# --------------------------------------------------------------------------------------------- staff


def _read_password(args: argparse.Namespace, prompt: str) -> str:
    if args.password:
        return args.password
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"{prompt}：")
    if getpass.getpass("再次输入确认：") != first:
        raise HisError("两次输入的密码不一致", field="password")
    return first


_PASSWORD_ARGS = [
    arg("--password", help="密码（不推荐：会留在命令历史里；省略则提示输入）"),
    arg("--password-stdin", action="store_true", help="从标准输入读取密码（脚本用）"),
]


@command("staff", "add", help="新增人员账号", args=[
    arg("username", help="登录用户名（小写字母开头）"),
    arg("--name", required=True, help="姓名"),
    arg("--role", required=True, action="append", dest="roles",
        choices=["cashier", "doctor", "admission", "immunization", "finance", "admin"], help="角色，可重复"),
    arg("--department", help="所属科室编码，例如 NK"),
    *_PASSWORD_ARGS,
    arg("--must-change", action="store_true", help="首次登录必须修改密码"),
])
def staff_add(ctx: CliContext, args: argparse.Namespace) -> int:
    from desktop_his.services.admin.staff import StaffForm

    services = ctx.services
    department_id = _department_id(services, args.department)
    password = _read_password(args, "初始密码")
    saved = services.staff.create_staff(ctx.actor, StaffForm(
        args.username, args.name, args.roles, department_id=department_id, password=password,
        must_change_password=args.must_change))
    ctx.out(f"已创建账号 {saved.row.username}（{saved.row.full_name}，{saved.row.role_labels}）")
    return EXIT_OK


@command("staff", "passwd", help="设置人员密码（同时解除锁定）", args=[
    arg("username"), *_PASSWORD_ARGS, arg("--must-change", action="store_true", help="下次登录必须修改密码"),
])
def staff_passwd(ctx: CliContext, args: argparse.Namespace) -> int:
    services = ctx.services
    row = services.staff.find_by_username(ctx.actor, args.username)
    services.staff.set_password(ctx.actor, row.id, _read_password(args, "新密码"), must_change=args.must_change)
    ctx.out(f"已设置 {row.username} 的密码")
    return EXIT_OK


@command("staff", "list", help="列出人员账号")
def staff_list(ctx: CliContext, args: argparse.Namespace) -> int:
    for row in ctx.services.staff.list_staff(ctx.actor):
        state = "" if row.active else "（已停用）"
        ctx.out(f"{row.username:<14} {row.full_name:<8} {row.role_labels} {row.department_name}{state}")
    return EXIT_OK


def _department_id(services: Any, code: str | None) -> int | None:
    if not code:
        return None
    for dept in services.organisation.list_departments():
        if dept.code == code.strip().upper():
            return dept.id
    raise HisError(f"没有编码为“{code}”的科室", field="department")


# ------------------------------------------------------------------------------------- audit & slots


@command("audit", "verify", help="校验审计日志哈希链是否完整")
def audit_verify(ctx: CliContext, args: argparse.Namespace) -> int:
    from desktop_his.services import audit

    with ctx.services.db.reader() as s:
        result = audit.verify(s)
    if result.ok:
        ctx.out(f"审计日志完整：共 {result.records} 条记录")
        return EXIT_OK
    ctx.out(f"审计日志异常：{result.problem}（已校验 {result.records} 条）")
    return EXIT_FAILED


@command("slots", "generate", help="按排班生成号源（今天起至可预约天数；可重复运行，适合计划任务）", args=[
    arg("--days", type=int, help="生成今天之后多少天（默认按挂号规则的可预约天数）"),
])
def slots_generate(ctx: CliContext, args: argparse.Namespace) -> int:
    report = ctx.services.scheduling.generate_slots(ctx.actor, days=args.days)
    ctx.out(report.summary())
    return EXIT_OK


def _day(text: str) -> Any:
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"日期格式应为 YYYY-MM-DD：{text}") from exc


@command("inpatient", "bed-charges", help="计床位费：为在院患者补记截至某日（含）尚未计费的床日（可重复运行，适合每晚计划任务）",
         args=[arg("--date", type=_day, help="计到哪一天，YYYY-MM-DD（默认昨天）")])
def inpatient_bed_charges(ctx: CliContext, args: argparse.Namespace) -> int:
    from datetime import timedelta

    from desktop_his.services.enums import Role
    from desktop_his.services.money import format_fen

    services = ctx.services
    day = args.date or services.clock.today() - timedelta(days=1)
    # The job does the admission desk's work, so it carries that desk's role (not the finance default).
    run = services.inpatient.post_bed_charges(ctx.job_actor("bed-charges", Role.ADMISSION), day)
    ctx.out(f"床位费计至 {day:%Y-%m-%d}：在院 {run.admissions} 人，新计 {run.days_posted} 个床日，"
            f"合计 {format_fen(run.amount_fen, symbol=True)}")
    return EXIT_OK


from desktop_his import cli_finance  # noqa: E402, F401 - branch finance: settle, refunds, reconcile, report

# ------------------------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="desktop-his-cli", description="信用就医 医院工作站：命令行管理与计划任务")
    parser.add_argument("--config", type=Path, help="配置文件路径（默认为本机配置目录下的 settings.toml）")
    parser.add_argument("--version", action="version", version=f"desktop_his {__version__}")
    top = parser.add_subparsers(dest="command", metavar="命令")
    groups: dict[str, argparse._SubParsersAction] = {}
    for cmd in COMMANDS:
        if len(cmd.path) == 1:
            sub = top.add_parser(cmd.path[0], help=cmd.help, description=cmd.help)
        else:
            group, name = cmd.path
            if group not in groups:
                group_parser = top.add_parser(group, help=GROUP_HELP.get(group, group))
                groups[group] = group_parser.add_subparsers(dest="subcommand", metavar="子命令")
            sub = groups[group].add_parser(name, help=cmd.help, description=cmd.help)
        for names, kwargs in cmd.args:
            sub.add_argument(*names, **kwargs)
        sub.set_defaults(run=cmd.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return EXIT_USAGE
    ctx = CliContext(config=args.config)
    try:
        _setup_logging(ctx)
        return args.run(ctx, args)
    except ConfigError as exc:
        print(f"配置错误：{exc.message}", file=sys.stderr)
        return EXIT_USAGE
    except DatabaseNotReady as exc:
        print(f"数据库不可用：{exc}", file=sys.stderr)
        return EXIT_DATABASE
    except HisError as exc:
        print(f"错误：{exc.message}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("已取消", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:  # ``desktop-his-cli staff list | head``: the reader left, nothing is wrong
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    finally:
        ctx.close()


def _setup_logging(ctx: CliContext) -> None:
    from desktop_his.services.logging_setup import setup_logging

    setup_logging(ctx.settings.log_dir, level=ctx.settings.log_level, console=False)


if __name__ == "__main__":
    raise SystemExit(main())
