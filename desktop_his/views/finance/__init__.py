"""财务结算 workstation: T-day deduction, refund queue, reconciliation, merchant balance, reports, inbox."""
