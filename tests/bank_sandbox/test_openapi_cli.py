"""The OpenAPI document matches docs/bank-api.md; the standalone server and the admin CLI work."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import requests

from bank_sandbox import RunningSandbox
from bank_sandbox.__main__ import main as cli_main
from bank_sandbox.engine import INTERFACES

ROOT = Path(__file__).resolve().parents[2]


def documented_interfaces() -> set[str]:
    text = (ROOT / "docs" / "bank-api.md").read_text(encoding="utf-8")
    return set(re.findall(r"^### `(\w+)`", text, flags=re.M)) | set(re.findall(r"· `(\w+)`", text))


def test_every_documented_interface_is_in_the_openapi_paths(sandbox: RunningSandbox) -> None:
    spec = requests.get(f"{sandbox.url}/openapi.json", timeout=5).json()
    assert spec["openapi"].startswith("3.")
    paths = {p.removeprefix("/api/v1/") for p in spec["paths"]}
    assert documented_interfaces() == paths == set(INTERFACES)
    assert len(paths) == 13
    lock = spec["paths"]["/api/v1/lock"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert set(lock["properties"]["data"]["required"]) == {"agreement_no", "visit_no", "lock_no", "amount_fen"}
    doc = (ROOT / "docs" / "bank-api.md").read_text(encoding="utf-8")
    for code in spec["components"]["schemas"]["ResultCodes"]["enum"]:
        assert code in doc, f"result code {code} is not documented"


def test_admin_cli_against_a_running_sandbox(sandbox: RunningSandbox, capsys) -> None:  # noqa: ANN001
    base = ["admin", "--url", sandbox.url]
    assert cli_main(base + ["resident", "赵六", "01", "510104199001011234", "--sign", "10000"]) == 0
    assert json.loads(capsys.readouterr().out)["agreement_no"].startswith("XY")
    assert cli_main(base + ["clock", "--end-of-day"]) == 0
    assert json.loads(capsys.readouterr().out)["now"].endswith("23:59:59")
    assert cli_main(base + ["fault", "lock", "delay", "--delay-ms", "5", "--count", "2"]) == 0
    assert json.loads(capsys.readouterr().out)["count"] == 2
    assert cli_main(base + ["merchant", "--reserve", "500000"]) == 0
    assert json.loads(capsys.readouterr().out)["reserve_fen"] == 500_000
    assert cli_main(base + ["bind", "510104199001011234", "510106197811301014"]) == 0
    capsys.readouterr()
    assert cli_main(base + ["bind", "510104199001011234", "510104198503121232"]) == 1  # a holder
    assert "需先解约" in capsys.readouterr().err
    assert cli_main(["admin", "--url", sandbox.url, "--token", "wrong", "ledger"]) == 1


def test_standalone_server_process(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "bank_sandbox", "--port", "0", "--db", str(tmp_path / "b.db"),
                             "--demo"], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://[\d.]+:\d+", line).group(0)
        assert requests.get(f"{url}/health", timeout=5).json() == {"ok": True}
        reply = requests.get(f"{url}/admin/merchant", headers={"X-Admin-Token": "sandbox-admin-demo"}, timeout=5)
        assert reply.json()["reserve_fen"] == 2_000_000
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()
    assert (tmp_path / "b.db").exists()
