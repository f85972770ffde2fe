"""``python -m bank_sandbox`` / ``bank-sandbox``: serve, or drive a running sandbox's admin API.

    bank-sandbox --host 127.0.0.1 --port 8690 --db bank.sqlite3 [--demo] [--seed N]
    bank-sandbox admin [--url URL] [--token T] clock --advance-days 1 | --end-of-day | --show
    bank-sandbox admin resident NAME ID_TYPE ID_NUMBER [--sign LIMIT_FEN]
    bank-sandbox admin bind HOLDER_ID_NUMBER MEMBER_ID_NUMBER      (resident IDs, type 01)
    bank-sandbox admin merchant [--receivables FEN] [--reserve FEN]
    bank-sandbox admin fault INTERFACE KIND [--count K] [--probability P] [--delay-ms MS] [--code C]
    bank-sandbox admin faults-clear | ledger | account ID_TYPE ID_NUMBER | limit ID_TYPE ID_NUMBER FEN
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from typing import Any

from bank_sandbox.server import DEMO_ADMIN_TOKEN, DEMO_DATA_KEY, DEMO_MERCHANT_ID, DEMO_MERCHANT_KEY


def _serve(args: argparse.Namespace) -> int:
    from bank_sandbox.server import Sandbox, serve_forever

    sandbox = Sandbox(args.db, merchant_id=args.merchant_id, merchant_key=args.merchant_key,
                      data_key=args.data_key, admin_token=args.admin_token, seed=args.seed, demo=args.demo)

    def ready(host: str, port: int) -> None:
        print(f"bank sandbox listening on http://{host}:{port} (db {args.db})", flush=True)

    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        serve_forever(sandbox, args.host, args.port, ready=ready)
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.close()
    return 0


def _admin(args: argparse.Namespace) -> Any:
    from bank_sandbox.admin import AdminClient

    c = AdminClient(args.url, args.token)
    cmd = args.cmd
    if cmd == "clock":
        if args.advance_days or args.advance_seconds:
            return c.advance(days=args.advance_days, seconds=args.advance_seconds)
        if args.end_of_day:
            return c.end_of_day()
        if args.set:
            return c.set_clock(args.set, frozen=not args.running)
        return c.clock()
    if cmd == "resident":
        out = c.create_resident(args.name, args.id_type, args.id_number)
        return c.sign(args.id_type, args.id_number, args.sign) if args.sign is not None else out
    if cmd == "bind":
        return c.bind(("01", args.holder), ("01", args.member))
    if cmd == "unbind":
        return c.unbind(args.id_type, args.id_number)
    if cmd == "terminate":
        return c.terminate(args.id_type, args.id_number)
    if cmd == "limit":
        return c.set_limit(args.id_type, args.id_number, args.fen)
    if cmd == "repay":
        return c.repay(args.id_type, args.id_number, args.fen)
    if cmd == "account":
        return c.account(args.id_type, args.id_number)
    if cmd == "merchant":
        if args.receivables is None and args.reserve is None:
            return c.merchant()
        return c.set_merchant(receivables_fen=args.receivables, reserve_fen=args.reserve)
    if cmd == "fault":
        return c.add_fault(args.interface, args.kind, count=args.count, probability=args.probability,
                           delay_ms=args.delay_ms, code=args.code)
    if cmd == "faults-clear":
        return {"cleared": c.clear_faults()}
    if cmd == "ledger":
        return c.ledger()
    raise SystemExit(f"unknown admin command {cmd}")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bank-sandbox", description="信用就医 bank sandbox")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8690)
    p.add_argument("--db", default="bank_sandbox.sqlite3")
    p.add_argument("--demo", action="store_true", help="seed the demo residents into an empty database")
    p.add_argument("--seed", type=int, default=0, help="seed of the fault-injection random streams")
    p.add_argument("--merchant-id", default=DEMO_MERCHANT_ID)
    p.add_argument("--merchant-key", default=os.environ.get("BANK_SANDBOX_MERCHANT_KEY", DEMO_MERCHANT_KEY))
    p.add_argument("--data-key", default=os.environ.get("BANK_SANDBOX_DATA_KEY", DEMO_DATA_KEY))
    p.add_argument("--admin-token", default=os.environ.get("BANK_SANDBOX_ADMIN_TOKEN", DEMO_ADMIN_TOKEN))
    sub = p.add_subparsers(dest="command")
    a = sub.add_parser("admin", help="call a running sandbox's admin API")
    a.add_argument("--url", default="http://127.0.0.1:8690")
    a.add_argument("--token", default=os.environ.get("BANK_SANDBOX_ADMIN_TOKEN", DEMO_ADMIN_TOKEN))
    cmds = a.add_subparsers(dest="cmd", required=True)
    c = cmds.add_parser("clock")
    c.add_argument("--advance-days", type=int, default=0)
    c.add_argument("--advance-seconds", type=int, default=0)
    c.add_argument("--end-of-day", action="store_true")
    c.add_argument("--set", help="ISO time, frozen unless --running")
    c.add_argument("--running", action="store_true")
    r = cmds.add_parser("resident")
    r.add_argument("name")
    r.add_argument("id_type")
    r.add_argument("id_number")
    r.add_argument("--sign", type=int, metavar="LIMIT_FEN")
    b = cmds.add_parser("bind")
    b.add_argument("holder")
    b.add_argument("member")
    for name in ("unbind", "terminate", "account"):
        x = cmds.add_parser(name)
        x.add_argument("id_type")
        x.add_argument("id_number")
    for name in ("limit", "repay"):
        x = cmds.add_parser(name)
        x.add_argument("id_type")
        x.add_argument("id_number")
        x.add_argument("fen", type=int)
    m = cmds.add_parser("merchant")
    m.add_argument("--receivables", type=int)
    m.add_argument("--reserve", type=int)
    f = cmds.add_parser("fault")
    f.add_argument("interface")
    f.add_argument("kind")
    f.add_argument("--count", type=int)
    f.add_argument("--probability", type=float, default=1.0)
    f.add_argument("--delay-ms", type=int, default=0)
    f.add_argument("--code")
    cmds.add_parser("faults-clear")
    cmds.add_parser("ledger")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "admin":
        from bank_sandbox.admin import AdminError

        try:
            print(json.dumps(_admin(args), ensure_ascii=False, indent=2, default=str))
        except AdminError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        return 0
    return _serve(args)


if __name__ == "__main__":
    sys.exit(main())
