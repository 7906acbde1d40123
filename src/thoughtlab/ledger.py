"""The claims ledger: the notes' 30 testable sentences, c1–c30 (a copy of ``shared/CLAIMS.md``, shipped as package data)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class LedgerClaim:
    """One row of the ledger: its id, the thought it belongs to, and the note's sentence."""

    id: str
    thought: str
    sentence: str


def parse_ledger(text: str) -> list[LedgerClaim]:
    """The ``- **cN** sentence`` rows of the ledger's markdown, with the ``## Thought`` heading above each."""
    claims, thought = [], ""
    for block in re.split(r"\n(?=## |- \*\*c\d+\*\*)", text):
        if block.startswith("## "):
            thought = block.splitlines()[0][3:].strip()
            block = block.split("\n", 1)[1] if "\n" in block else ""
        match = re.match(r"- \*\*(c\d+)\*\* (.*)", block.strip(), re.S)
        if match:
            sentence = " ".join(match.group(2).split("\n\n")[0].split())
            claims.append(LedgerClaim(match.group(1), thought, sentence))
    return claims


@cache
def ledger() -> tuple[LedgerClaim, ...]:
    """All ledger rows in order (c1..c30)."""
    return tuple(parse_ledger(resources.files("thoughtlab").joinpath("claims.md").read_text()))


def ledger_ids() -> tuple[str, ...]:
    return tuple(c.id for c in ledger())
