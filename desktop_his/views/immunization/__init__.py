"""预防接种登记台 (the immunization desk) — see docs/doctor-station.md."""
