"""What the cases e-service reads of the directory: whether a care unit exists (rule 19) and its provider.

The directory owns the table and its keys (`functions/directory/directory/keys.py`: `UNIT#<hsa-id>` /
`UNIT`); this is the one place outside it that knows them, and `test_cases_api` proves it against items
the directory's own feed wrote.
"""

from __future__ import annotations

from dataclasses import dataclass

from eservices_core.table import Table


@dataclass(frozen=True, slots=True)
class Clinic:
    hsa_id: str
    name: str
    care_provider_hsa_id: str


class Clinics:
    def __init__(self, directory_table: Table) -> None:
        self.table = directory_table

    def get(self, hsa_id: str) -> Clinic | None:
        """One GetItem (eventually consistent: the catalogue changes rarely). Removed units are absent."""
        item = self.table.get((f"UNIT#{hsa_id}", "UNIT"), consistent=False)
        if item is None or item.get("removed"):
            return None
        return Clinic(hsa_id, item["name"], item["care_provider_hsa_id"])
