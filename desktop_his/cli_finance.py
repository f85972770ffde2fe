"""Finance commands of ``desktop-his-cli`` (imported once from cli.py): the scheduled jobs of docs/operations.md.

    desktop-his-cli settle --date YYYY-MM-DD [--workers 64]      T-day deduction (default: today)
    desktop-his-cli settle --date … --status                     where day T stands, no sending
    desktop-his-cli refunds retry                                retry the refund queue in submission order
    desktop-his-cli refunds list                                 the queue, head first
    desktop-his-cli reconcile --date YYYY-MM-DD [--xlsx p] [--csv p]   (default: yesterday)
    desktop-his-cli report day --date YYYY-MM-DD [--xlsx p] [--csv p]  day-end report (default: today)

Exit codes (cli.py): 0 done and nothing left; 1 refused/failed — or the job ran but something is left for a
person: ``settle`` with locks still undeducted or unresolved, ``refunds retry`` with refunds still queued,
``reconcile`` with mismatches; 2 bad usage/configuration; 3 database not ready. The bank side is connected
here (demo mode: the sandbox in the data folder); open operations are resolved first, as at the app's start.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, timedelta
from typing import Any

from desktop_his.services.errors import HisError


def _cli() -> Any:
    # cli.py may run as __main__ (the frozen desktop-his-cli.exe, ``python desktop_his/cli.py``): register there.
    main = sys.modules.get("__main__")
    if main is not None and hasattr(main, "COMMANDS") and hasattr(main, "CliContext"):
        return main
    import desktop_his.cli as cli

    return cli


_c = _cli()
command, arg, EXIT_OK, EXIT_FAILED = _c.command, _c.arg, _c.EXIT_OK, _c.EXIT_FAILED
_c.GROUP_HELP.setdefault("refunds", "退款队列")
_c.GROUP_HELP.setdefault("report", "报表")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"日期格式应为 YYYY-MM-DD：{text}") from exc


def _bank(ctx: Any, *, resolve: bool = True) -> Any:
    """The services with the bank connected (no resolver thread: a job resolves once, up front)."""
    from desktop_his.services.container import connect_bank

    services = ctx.services
    if services.bank is None:
        connect_bank(services, resolver_interval=None)
        if services.bank is None:
            raise HisError(f"未连接银行：{services.bank_problem or '请检查银行连接设置'}")
        if resolve:
            report = services.bank.resolve_pending(include_not_due=True, limit=100_000)
            if report.checked:
                ctx.out(f"先处理未决银行交易 {report.checked} 笔：成功 {report.success}，失败 {report.failed}，"
                        f"仍未知 {report.unknown}")
    return services


@command("settle", help="T日扣款：把某日全部“信用就医”锁定按实际金额扣款（可重复运行，可多台同时运行）", args=[
    arg("--date", type=_day, help="业务日期 YYYY-MM-DD（默认今天）"),
    arg("--workers", type=int, default=64, help="并发请求数（默认 64）"),
    arg("--status", action="store_true", help="只显示该日扣款情况，不发送"),
])
def settle(ctx: Any, args: argparse.Namespace) -> int:
    from desktop_his.services.money import format_fen

    if not 1 <= args.workers <= 256:
        raise HisError("--workers 须在 1 到 256 之间")
    services = _bank(ctx, resolve=not args.status)
    actor = ctx.job_actor("settle")
    day = args.date or services.clock.today()
    if not args.status:
        report = services.deduction.run(actor, day, max_workers=args.workers)
        ctx.out(report.message + f"（用时 {report.seconds:.1f} 秒）")
    st = services.deduction.status(actor, day)
    ctx.out(f"{day:%Y-%m-%d}：已扣款 {st.figures('deducted').count} 笔 {format_fen(st.figures('deducted').fen, symbol=True)}，"
            f"待扣款 {st.to_deduct.count} 笔 {format_fen(st.to_deduct.fen, symbol=True)}，结果未确认 {st.in_flight} 笔")
    released = services.deduction.released(actor, day)
    if released:
        ctx.out(f"未能扣款、须以其他方式收取 {len(released)} 笔：")
        for r in released:
            ctx.out(f"  {r.lock_no} {r.patient_name} {r.phone} {format_fen(r.amount_fen, symbol=True)} {r.reason}")
    if st.alert:
        ctx.out(f"提醒：{st.alert}")
    return EXIT_OK if not (st.to_deduct.count or st.in_flight or st.pending_locks) else EXIT_FAILED


@command("refunds", "retry", help="按提交顺序重试退款队列（同一退款单号；适合每日计划任务）")
def refunds_retry(ctx: Any, args: argparse.Namespace) -> int:
    from desktop_his.services.money import format_fen

    services = _bank(ctx)
    actor = ctx.job_actor("refunds-retry")
    queued = services.refunds.queued(actor)
    if not queued:
        ctx.out("退款队列为空")
        return EXIT_OK
    try:
        balance = services.reconciliation.merchant_balance(actor)
        ctx.out(f"暂收金额 {format_fen(balance.balance_fen, symbol=True)}（应收 {format_fen(balance.receivables_fen, symbol=True)}，"
                f"退款预留 {format_fen(balance.reserve_fen, symbol=True)}）；队首退款 {queued[0].refund_no} "
                f"{format_fen(queued[0].amount_fen, symbol=True)}")
    except HisError as exc:
        ctx.out(f"暂收金额查询失败：{exc.message}（仍按顺序重试）")
    report = services.refunds.retry(actor)
    ctx.out(report.message)
    return EXIT_OK if report.left == 0 else EXIT_FAILED


@command("refunds", "list", help="列出退款队列（按提交顺序）")
def refunds_list(ctx: Any, args: argparse.Namespace) -> int:
    from desktop_his.services.money import format_fen

    services = _bank(ctx, resolve=False)
    rows = services.refunds.queued(ctx.job_actor("refunds-list"))
    for q in rows:
        ctx.out(f"{q.refund_no} {q.created_at:%Y-%m-%d %H:%M} {q.patient_name} {format_fen(q.amount_fen, symbol=True)} "
                f"{q.department} 已试 {q.attempts} 次 {q.last_error_message or ''}")
    ctx.out(f"共 {len(rows)} 笔排队")
    return EXIT_OK


@command("reconcile", help="下载某日银行账单并与本地流水逐笔核对（默认昨天；最近一个月内）", args=[
    arg("--date", type=_day, help="账单日期 YYYY-MM-DD（默认昨天）"),
    arg("--xlsx", help="导出 Excel 文件路径"),
    arg("--csv", help="导出 CSV 文件路径"),
])
def reconcile(ctx: Any, args: argparse.Namespace) -> int:
    from desktop_his.services.reconciliation import KIND_LABELS, Kind, export_csv, export_xlsx

    services = _bank(ctx)
    day = args.date or services.clock.today() - timedelta(days=1)
    report = services.reconciliation.run(ctx.job_actor("reconcile"), day)
    ctx.out(report.message)
    for item in report.items[:50]:
        ctx.out(f"  {KIND_LABELS[Kind(item.kind)]}：{item.op} {item.number} 流水号 {item.serial} {item.note}")
    if len(report.items) > 50:
        ctx.out(f"  …… 共 {len(report.items)} 笔差异，详见导出文件")
    for path, export in ((args.xlsx, export_xlsx), (args.csv, export_csv)):
        if path:
            ctx.out(f"已导出：{export(report, path)}")
    return EXIT_OK if not report.mismatches else EXIT_FAILED


@command("report", "day", help="日结报表：按收费员、按渠道汇总收入、退款与取消", args=[
    arg("--date", type=_day, help="业务日期 YYYY-MM-DD（默认今天）"),
    arg("--xlsx", help="导出 Excel 文件路径"),
    arg("--csv", help="导出 CSV 文件路径"),
])
def report_day(ctx: Any, args: argparse.Namespace) -> int:
    from desktop_his.services.money import format_fen
    from desktop_his.services.reports import export_csv, export_xlsx

    services = ctx.services
    day = args.date or services.clock.today()
    report = services.reports.day_end(ctx.job_actor("report-day"), day)
    ctx.out(f"日结报表 {day:%Y-%m-%d}")
    for r in [*report.cashiers, report.total]:
        lines = "，".join(f"{x.label} {x.count} 笔 {format_fen(x.net_fen, symbol=True)}" for x in r.lines
                         if x.count or x.refund_count)
        ctx.out(f"{r.cashier}：收入 {format_fen(r.income_fen, symbol=True)}，退款 {format_fen(r.refund_fen, symbol=True)}，"
                f"净额 {format_fen(r.net_fen, symbol=True)}" + (f"（{lines}）" if lines else ""))
    t = report.total
    ctx.out(f"信用就医当日取消 {t.cancellations} 笔 {format_fen(t.cancellation_fen, symbol=True)}；"
            f"排队/处理中的退款 {t.waiting_refund_count} 笔 {format_fen(t.waiting_refund_fen, symbol=True)}；"
            f"当日退号 {t.cancelled_visits} 笔")
    for path, export in ((args.xlsx, export_xlsx), (args.csv, export_csv)):
        if path:
            ctx.out(f"已导出：{export(report, path)}")
    return EXIT_OK
