"""Registration-window commands of ``desktop-his-cli`` (registered on import by ``cli.py``).

    desktop-his-cli noshow mark [--date YYYY-MM-DD]     day-end no-shows (default: yesterday); safe to repeat
"""

from __future__ import annotations

import argparse

from desktop_his.cli import EXIT_OK, CliContext, _day, arg, command


@command("noshow", "mark", help="日终爽约处理：把某日已挂号、既未取号也未退号的记录记为爽约（默认昨天；可重复运行，适合计划任务）",
         args=[arg("--date", type=_day, help="就诊日期 YYYY-MM-DD（默认昨天）")])
def noshow_mark(ctx: CliContext, args: argparse.Namespace) -> int:
    services = ctx.services
    report = services.noshow.mark_no_shows(ctx.job_actor("noshow"), args.date)
    ctx.out(f"{report.day:%Y-%m-%d} 日终爽约：记爽约 {len(report.marked)} 人次，新列入黑名单 {len(report.blacklisted)} 人"
            + (f"；{report.left_for_later} 个时段尚未结束，稍后再运行" if report.left_for_later else ""))
    return EXIT_OK
