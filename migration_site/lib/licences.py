"""The open licences a package may be published under: the PACKAGE_LICENSE setting and a migration admin's choice per
dataset pick one of these ids (SPDX ids, which the Open Definition's licence list uses too).

Kept in code, not in the database: a licence is a legal text with a fixed address, and the descriptor, the package
page and data.json must name the same one for the same id. The `path` is what the Data Package spec puts in a
descriptor's `licenses` and what DCAT-US puts in data.json's `license` (a URI).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Licence:
    id: str  # SPDX id, the descriptor's `name`
    title: str
    path: str  # the licence's own page

    def descriptor_entry(self) -> dict[str, str]:
        """One item of a Data Package's `licenses`."""
        return {"name": self.id, "path": self.path, "title": self.title}


LICENCES: dict[str, Licence] = {
    licence.id: licence
    for licence in (
        Licence(
            "ODC-PDDL-1.0",
            "Open Data Commons Public Domain Dedication and License v1.0",
            "https://opendatacommons.org/licenses/pddl/1-0/",
        ),
        Licence(
            "ODC-BY-1.0", "Open Data Commons Attribution License v1.0", "https://opendatacommons.org/licenses/by/1-0/"
        ),
        Licence(
            "ODbL-1.0", "Open Data Commons Open Database License v1.0", "https://opendatacommons.org/licenses/odbl/1-0/"
        ),
        Licence(
            "CC0-1.0", "Creative Commons Zero v1.0 Universal", "https://creativecommons.org/publicdomain/zero/1.0/"
        ),
        Licence(
            "CC-BY-4.0",
            "Creative Commons Attribution 4.0 International",
            "https://creativecommons.org/licenses/by/4.0/",
        ),
        Licence(
            "CC-BY-SA-4.0",
            "Creative Commons Attribution Share-Alike 4.0 International",
            "https://creativecommons.org/licenses/by-sa/4.0/",
        ),
    )
}
