"""Residents, 亲情付 groups, credit, instalments, the merchant account, day rollover and bills.

The part of the bank that is not a single interface call: admin operations (the sandbox's stand-in for the
bank's mini-programme and back office) and the processing that happens when the simulated clock passes
midnight: undeducted locks of day T released, T cleared on T+1 net of T's refunds from receivables, bills past
their interest-free period split into six monthly instalments.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from bank_sandbox import codes
from bank_sandbox.clock import SimClock
from bank_sandbox.rules import MAX_FAMILY, Refusal, add_months, available, days, next_serial
from bank_sandbox.store import Store

DEFAULT_SETTINGS = {"interest_free_days": 30, "annual_rate_bp": 1080}


class Accounts:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.clock = SimClock(store)
        with store.tx():
            if store.meta("merchant") is None:
                store.set_meta("merchant", {"receivables_fen": 0, "reserve_fen": 0, "has_reserve": False,
                                            "cleared_total_fen": 0})
            if store.meta("settings") is None:
                store.set_meta("settings", dict(DEFAULT_SETTINGS))
            if store.meta("last_day") is None:
                store.set_meta("last_day", self.today().isoformat())
        self.settings: dict[str, int] = store.meta("settings")  # kept in step by set_settings

    def now(self) -> datetime:
        return self.clock.now()

    def today(self) -> date:
        return self.clock.now().date()

    # ------------------------------------------------------------------------------ merchant

    def merchant_figures(self) -> dict[str, Any]:
        """暂收金额 = today's receivables not yet cleared (net of today's refunds from them) + refund reserve."""
        m = self.store.meta("merchant")
        return {"balance_fen": m["receivables_fen"] + m["reserve_fen"], "receivables_fen": m["receivables_fen"],
                "reserve_fen": m["reserve_fen"], "has_reserve": m["has_reserve"],
                "cleared_total_fen": m["cleared_total_fen"]}

    def adjust_merchant(self, receivables: int = 0, reserve: int = 0) -> None:
        m = self.store.meta("merchant")
        m["receivables_fen"] += receivables
        m["reserve_fen"] += reserve
        self.store.set_meta("merchant", m)

    def refund_source(self, origin_day: str) -> str:
        """Table 1 of the plan: T → that day's receivables; T+N → the reserve if there is one, else receivables."""
        if origin_day == self.today().isoformat():
            return "receivables"
        return "reserve" if self.store.meta("merchant")["has_reserve"] else "receivables"

    def set_merchant(self, receivables_fen: int | None = None, reserve_fen: int | None = None,
                     has_reserve: bool | None = None) -> dict[str, Any]:
        m = self.store.meta("merchant")
        if receivables_fen is not None:
            m["receivables_fen"] = int(receivables_fen)
        if reserve_fen is not None:
            m["reserve_fen"] = int(reserve_fen)
            m["has_reserve"] = True if has_reserve is None else has_reserve
        elif has_reserve is not None:
            m["has_reserve"] = has_reserve
        self.store.set_meta("merchant", m)
        return self.merchant_figures()

    def set_settings(self, **values: int) -> dict[str, int]:
        current = dict(self.settings)
        current.update(values)
        self.store.set_meta("settings", current)
        self.store.after_commit(lambda: setattr(self, "settings", current))
        return current

    # ------------------------------------------------------------------------------ credit & debts

    def open_debt(self, holder_id: int, serial: str, fen: int) -> None:
        free = self.settings["interest_free_days"]
        self.store.run("INSERT INTO debt (holder_id, origin_serial, day, principal_fen, remaining_fen, free_until) "
                       "VALUES (?,?,?,?,?,?)", holder_id, serial, self.today().isoformat(), fen, fen,
                       (self.today() + timedelta(days=free)).isoformat())

    def restore_credit(self, holder_id: int, debt_serial: str, fen: int) -> None:
        """A refund gives the credit back: the bill line shrinks (an instalment plan from its last period)."""
        debt = self.store.one("SELECT * FROM debt WHERE origin_serial = ?", debt_serial)
        if debt is None:
            return
        cut = min(fen, debt["remaining_fen"])
        self.store.run("UPDATE debt SET remaining_fen = remaining_fen - ? WHERE id = ?", cut, debt["id"])
        self.store.run("UPDATE resident SET used_fen = used_fen - ? WHERE id = ?", cut, holder_id)
        if debt["plan_id"] is not None:
            for period in self.store.all("SELECT * FROM plan_period WHERE plan_id = ? ORDER BY seq DESC",
                                         debt["plan_id"]):
                take = min(cut, period["principal_fen"] - max(0, period["paid_fen"] - period["interest_fen"]))
                if take > 0:
                    self.store.run("UPDATE plan_period SET principal_fen = principal_fen - ? WHERE plan_id = ? "
                                   "AND seq = ?", take, period["plan_id"], period["seq"])
                    cut -= take

    def repay(self, resident_id: int, fen: int) -> dict[str, Any]:
        """The resident repays: instalments due first (interest before principal), then bill lines, oldest first."""
        owed = self._owed(resident_id)
        if fen <= 0 or fen > owed:
            raise Refusal(codes.ACCOUNT_RULE, f"还款金额应在 0.01 与欠款 {owed / 100:.2f} 元之间")
        left = fen
        for p in self.store.all("SELECT pp.*, d.id AS debt_id FROM plan_period pp JOIN plan ON plan.id = pp.plan_id "
                                "JOIN debt d ON d.plan_id = plan.id WHERE plan.holder_id = ? "
                                "ORDER BY pp.due_day, pp.plan_id, pp.seq", resident_id):
            due = p["principal_fen"] + p["interest_fen"] - p["paid_fen"]
            pay = min(left, max(0, due))
            if pay <= 0:
                continue
            principal = max(0, p["paid_fen"] + pay - p["interest_fen"]) - max(0, p["paid_fen"] - p["interest_fen"])
            self.store.run("UPDATE plan_period SET paid_fen = paid_fen + ? WHERE plan_id = ? AND seq = ?",
                           pay, p["plan_id"], p["seq"])
            self._reduce(resident_id, p["debt_id"], principal)
            left -= pay
        for d in self.store.all("SELECT * FROM debt WHERE holder_id = ? AND plan_id IS NULL AND remaining_fen > 0 "
                                "ORDER BY day, id", resident_id):
            pay = min(left, d["remaining_fen"])
            self._reduce(resident_id, d["id"], pay)
            left -= pay
        return self.account(resident_id)

    def _reduce(self, holder_id: int, debt_id: int, principal: int) -> None:
        self.store.run("UPDATE debt SET remaining_fen = remaining_fen - ? WHERE id = ?", principal, debt_id)
        self.store.run("UPDATE resident SET used_fen = used_fen - ? WHERE id = ?", principal, holder_id)

    def _owed(self, holder_id: int) -> int:
        loose = self.store.one("SELECT COALESCE(SUM(remaining_fen), 0) AS s FROM debt WHERE holder_id = ? AND "
                               "plan_id IS NULL", holder_id)["s"]
        planned = self.store.one("SELECT COALESCE(SUM(pp.principal_fen + pp.interest_fen - pp.paid_fen), 0) AS s "
                                 "FROM plan_period pp JOIN plan ON plan.id = pp.plan_id WHERE plan.holder_id = ?",
                                 holder_id)["s"]
        return loose + planned

    def instalment_info(self, holder_id: int) -> list[dict[str, Any]]:
        out = []
        for plan in self.store.all("SELECT * FROM plan WHERE holder_id = ? ORDER BY id", holder_id):
            periods = self.store.all("SELECT * FROM plan_period WHERE plan_id = ? ORDER BY seq", plan["id"])
            unpaid = [p for p in periods if p["principal_fen"] + p["interest_fen"] > p["paid_fen"]]
            out.append({"plan_no": plan["plan_no"], "principal_fen": plan["principal_fen"], "periods": len(periods),
                        "paid_periods": len(periods) - len(unpaid), "start_date": plan["start_day"],
                        "annual_rate_bp": plan["annual_rate_bp"],
                        "next_due_date": unpaid[0]["due_day"] if unpaid else None,
                        "next_amount_fen": (unpaid[0]["principal_fen"] + unpaid[0]["interest_fen"]
                                            - unpaid[0]["paid_fen"]) if unpaid else 0,
                        "remaining_fen": sum(p["principal_fen"] + p["interest_fen"] - p["paid_fen"] for p in unpaid)})
        return out

    def _make_plan(self, debt: Any, day: date) -> None:
        """分期付: six equal monthly principal payments (remainder fen on the last), interest on the balance."""
        rate = self.settings["annual_rate_bp"]
        principal = debt["remaining_fen"]
        plan_no = next_serial(self.store, "FQ", day)
        cur = self.store.run("INSERT INTO plan (plan_no, holder_id, principal_fen, start_day, annual_rate_bp) "
                             "VALUES (?,?,?,?,?)", plan_no, debt["holder_id"], principal, day.isoformat(), rate)
        part, balance = principal // 6, principal
        for seq in range(1, 7):
            this = part if seq < 6 else principal - 5 * part
            interest = (balance * rate * 2 + 120000) // 240000  # balance × rate/12, rounded half up to the fen
            self.store.run("INSERT INTO plan_period VALUES (?,?,?,?,?,0)", cur.lastrowid, seq,
                           add_months(day, seq).isoformat(), this, interest)
            balance -= this
        self.store.run("UPDATE debt SET plan_id = ? WHERE id = ?", cur.lastrowid, debt["id"])

    # ------------------------------------------------------------------------------ the day boundary

    def roll_over(self) -> None:
        """Process every midnight passed since the last call (inside a transaction)."""
        today = self.today()
        if today == getattr(self, "_rolled_to", None):
            return  # the common case: no midnight since the last request
        last = date.fromisoformat(self.store.meta("last_day"))
        for day in days(last, today):
            self._midnight(day)
            self.store.set_meta("last_day", day.isoformat())
        self.store.after_commit(lambda: setattr(self, "_rolled_to", today))

    def _midnight(self, day: date) -> None:
        before = (day - timedelta(days=1)).isoformat()
        now = datetime.combine(day, datetime.min.time()).isoformat()
        for lock in self.store.all("SELECT * FROM lock WHERE status = 'locked' AND day < ?", day.isoformat()):
            self.store.run("UPDATE lock SET status = 'expired', closed_at = ? WHERE lock_no = ?", now, lock["lock_no"])
            self.store.run("UPDATE resident SET locked_fen = locked_fen - ? WHERE id = ?", lock["amount_fen"],
                           lock["holder_id"])
        self._clear(before, day)
        for debt in self.store.all("SELECT * FROM debt WHERE plan_id IS NULL AND remaining_fen > 0 AND "
                                   "free_until < ?", day.isoformat()):
            self._make_plan(debt, day)

    def _clear(self, day: str, on: date) -> None:
        """T+1 clearing: T's deductions and pays net of T's refunds from receivables (轧差)."""
        if self.store.one("SELECT 1 FROM clearing WHERE day = ?", day):
            return
        t = self.day_totals(day)
        self.store.run("INSERT INTO clearing VALUES (?,?,?,?,?,?,?)", day, t["deductions_fen"], t["pays_fen"],
                       t["refunds_receivables_fen"], t["refunds_reserve_fen"], t["net_fen"], on.isoformat())
        m = self.store.meta("merchant")
        m["cleared_total_fen"] += t["net_fen"]
        m["receivables_fen"] = 0
        self.store.set_meta("merchant", m)

    def day_totals(self, day: str) -> dict[str, int]:
        def total(op: str, source: str | None = None) -> int:
            sql = "SELECT COALESCE(SUM(amount_fen), 0) AS s FROM movement WHERE day = ? AND op = ? AND status = 'SUCCESS'"
            args: list[Any] = [day, op]
            if source:
                sql += " AND source = ?"
                args.append(source)
            return self.store.one(sql, *args)["s"]

        t = {"deductions_fen": total("deduct"), "pays_fen": total("pay"),
             "refunds_receivables_fen": total("refund", "receivables"),
             "refunds_reserve_fen": total("refund", "reserve")}
        t["net_fen"] = t["deductions_fen"] + t["pays_fen"] - t["refunds_receivables_fen"]
        return t

    def bill(self, day: date) -> dict[str, Any]:
        lines = [{"serial": m["serial"], "op": m["op"], "number": m["number"], "amount_fen": m["amount_fen"],
                  "status": m["status"], "code": m["code"], "source": m["source"], "time": m["at"]}
                 for m in self.store.all("SELECT * FROM movement WHERE day = ? AND op IN ('deduct', 'pay', 'refund') "
                                         "ORDER BY id", day.isoformat())]
        clearing = self.store.one("SELECT * FROM clearing WHERE day = ?", day.isoformat())
        return {"bill_date": day.isoformat(), "lines": lines, "totals": self.day_totals(day.isoformat()),
                "clearing_fen": clearing["net_fen"] if clearing else None,
                "cleared_on": clearing["cleared_on"] if clearing else None}

    # ------------------------------------------------------------------------------ residents (admin)

    def resident(self, id_type: str, id_number: str) -> Any:
        row = self.store.one("SELECT * FROM resident WHERE id_type = ? AND id_number = ?", id_type, id_number)
        if row is None:
            raise Refusal(codes.NOT_FOUND, f"居民 {id_type}/{id_number} 不存在")
        return row

    def create_resident(self, name: str, id_type: str, id_number: str, phone: str = "") -> dict[str, Any]:
        self.store.run("INSERT INTO resident (name, id_type, id_number, phone) VALUES (?,?,?,?) ON CONFLICT "
                       "(id_type, id_number) DO UPDATE SET name = excluded.name, phone = excluded.phone",
                       name, id_type, id_number, phone)
        return self.account(self.resident(id_type, id_number)["id"])

    def sign(self, resident_id: int, limit_fen: int, agreement_no: str | None = None) -> dict[str, Any]:
        row = self.store.one("SELECT * FROM resident WHERE id = ?", resident_id)
        if row["state"] == "signed":
            raise Refusal(codes.ACCOUNT_RULE, "该居民已签约" if row["role"] == "holder" else "亲情付共享人请先解除绑定")
        agreement_no = agreement_no or next_serial(self.store, "XY", self.today())
        self.store.run("UPDATE resident SET state = 'signed', role = 'holder', agreement_no = ?, limit_fen = ?, "
                       "holder_id = NULL, signed_at = ?, terminated_at = NULL WHERE id = ?", agreement_no,
                       limit_fen, self.now().isoformat(), resident_id)
        return self.account(resident_id)

    def terminate(self, resident_id: int) -> dict[str, Any]:
        row = self.store.one("SELECT * FROM resident WHERE id = ?", resident_id)
        if row["state"] != "signed":
            raise Refusal(codes.ACCOUNT_RULE, "该居民未签约")
        if row["role"] == "holder" and (row["used_fen"] or row["locked_fen"]):
            raise Refusal(codes.ACCOUNT_RULE, "额度尚未还清或仍有锁定，不能解约")
        for member in self.store.all("SELECT id FROM resident WHERE holder_id = ? AND state = 'signed'", resident_id):
            self.unbind(member["id"])
        self.store.run("UPDATE resident SET state = 'terminated', terminated_at = ?, holder_id = NULL WHERE id = ?",
                       self.now().isoformat(), resident_id)
        return self.account(resident_id)

    def bind(self, holder_id: int, member_id: int, agreement_no: str | None = None) -> dict[str, Any]:
        holder = self.store.one("SELECT * FROM resident WHERE id = ?", holder_id)
        member = self.store.one("SELECT * FROM resident WHERE id = ?", member_id)
        if holder["state"] != "signed" or holder["role"] != "holder":
            raise Refusal(codes.FAMILY_RULE, "额度主体人须已签约")
        if holder_id == member_id:
            raise Refusal(codes.FAMILY_RULE, "不能绑定本人")
        if member["state"] == "signed" and member["role"] == "holder":
            raise Refusal(codes.FAMILY_RULE, "额度主体人变更为额度共享人，需先解约")
        if member["state"] == "signed":
            raise Refusal(codes.FAMILY_RULE, "一个额度共享人只能被一个额度主体人绑定")
        count = self.store.one("SELECT COUNT(*) AS n FROM resident WHERE holder_id = ? AND state = 'signed'",
                               holder_id)["n"]
        if count >= MAX_FAMILY:
            raise Refusal(codes.FAMILY_RULE, f"一个额度主体人最多绑定 {MAX_FAMILY} 个额度共享人")
        agreement_no = agreement_no or next_serial(self.store, "QF", self.today())
        self.store.run("UPDATE resident SET state = 'signed', role = 'member', holder_id = ?, agreement_no = ?, "
                       "signed_at = ?, terminated_at = NULL WHERE id = ?", holder_id, agreement_no,
                       self.now().isoformat(), member_id)
        return self.account(member_id)

    def unbind(self, member_id: int) -> dict[str, Any]:
        member = self.store.one("SELECT * FROM resident WHERE id = ?", member_id)
        if member["role"] != "member" or member["state"] != "signed":
            raise Refusal(codes.FAMILY_RULE, "该居民不是额度共享人")
        self.store.run("UPDATE resident SET state = 'unsigned', role = NULL, holder_id = NULL, terminated_at = ? "
                       "WHERE id = ?", self.now().isoformat(), member_id)
        return self.account(member_id)

    def set_limit(self, resident_id: int, limit_fen: int) -> dict[str, Any]:
        row = self.store.one("SELECT * FROM resident WHERE id = ?", resident_id)
        if row["role"] != "holder" or row["state"] != "signed":
            raise Refusal(codes.ACCOUNT_RULE, "只有已签约的额度主体人有额度")
        self.store.run("UPDATE resident SET limit_fen = ? WHERE id = ?", limit_fen, resident_id)
        return self.account(resident_id)

    def account(self, resident_id: int) -> dict[str, Any]:
        row = self.store.one("SELECT * FROM resident WHERE id = ?", resident_id)
        out = {k: row[k] for k in row.keys()}
        out["available_fen"] = available(row) if row["role"] == "holder" else None
        out["owed_fen"] = self._owed(resident_id)
        out["members"] = [m["id_number"] for m in self.store.all(
            "SELECT id_number FROM resident WHERE holder_id = ? AND state = 'signed' ORDER BY id", resident_id)]
        out["instalments"] = self.instalment_info(resident_id)
        return out
