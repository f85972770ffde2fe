from __future__ import annotations

from collections.abc import Iterator

import pytest

from bank_sandbox import RunningSandbox
from desktop_his.services.bank.client import BankClient
from tests.services.bank.helpers import demo_client, running_sandbox


@pytest.fixture
def sandbox(tmp_path) -> Iterator[RunningSandbox]:  # noqa: ANN001
    with running_sandbox(tmp_path / "bank.sqlite3") as running:
        yield running


@pytest.fixture
def bank(sandbox: RunningSandbox) -> Iterator[BankClient]:
    client = demo_client(sandbox.url)
    yield client
    client.close()
