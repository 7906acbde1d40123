"""The HTML report: every study's claims, figures, numbers and verdicts.

Built from run records only (``result.json`` and ``config.json`` of complete
runs); nothing is recomputed here.  Figures are embedded as base64 PNG so the
page is self-contained; ``report.json`` carries the same content.
"""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

import jinja2

from thoughtlab.fileio import atomic_write_bytes, atomic_write_json
from thoughtlab.ledger import ledger
from thoughtlab.runs import CONFIG_NAME, RESULT_NAME, read_json

VERDICT_ORDER = ("supported", "refuted", "inconclusive")


def format_number(x: float) -> str:
    if x == 0 or 1e-3 <= abs(x) < 1e5:
        return f"{x:.4g}"
    return f"{x:.3e}"


def format_metric(entry: dict[str, Any]) -> str:
    """``mean ± std (n seeds)`` or ``value ± spread (kind)`` for one metric entry of result.json."""
    text = format_number(entry["mean"])
    if entry["n"] > 1:
        return f"{text} ± {format_number(entry['std'])} (sd over {entry['n']} seeds)"
    if "spread" in entry:
        return f"{text} ± {format_number(entry['spread'][0])} ({entry['spread_kind']})"
    return text


def format_interval(effect: dict[str, Any]) -> str:
    """``estimate [low, high]`` of a claim's effect (∞ where the interval is unbounded)."""
    def end(x: float | None, inf: str) -> str:
        return inf if x is None else format_number(x)

    return f"{format_number(effect['estimate'])} [{end(effect['low'], '−∞')}, {end(effect['high'], '∞')}]"


def format_claim_line(claim: dict[str, Any]) -> str:
    """One line for the terminal: verdict, ledger ids, effect with its interval, statement."""
    ids = ",".join(claim["ledger"])
    return f"{claim['verdict']:<13} {ids:<8} {claim['effect_name']} = {format_interval(claim['effect'])}  — {claim['statement']}"


def study_section(run_dir: Path) -> dict[str, Any]:
    """One study's part of the report, read from its run folder."""
    result = read_json(run_dir / RESULT_NAME)
    config = read_json(run_dir / CONFIG_NAME)
    metrics = result["metrics"]
    for claim in result["claims"]:
        claim["values"] = {m: format_metric(metrics[m]) for m in claim["measures"] if m in metrics}
        claim["interval"] = format_interval(claim["effect"])
        claim["curve_text"] = ", ".join(f"{p['fraction']:g}: {format_interval(p)}" for p in claim["curve"])
    figures = []
    for figure in result["figures"]:
        png = (run_dir / figure["file"]).read_bytes()
        figures.append(figure | {"path": str(run_dir / figure["file"]), "data": base64.b64encode(png).decode()})
    return {
        "result": result,
        "config": config,
        "run_dir": str(run_dir),
        "figures": figures,
        "empirical": [c for c in result["claims"] if c["kind"] == "empirical"],
        "checks": [c for c in result["claims"] if c["kind"] == "check"],
        "metric_rows": [(name, format_metric(entry)) for name, entry in metrics.items()],
    }


def verdict_counts(sections: list[dict[str, Any]]) -> dict[str, int]:
    """Verdicts of the empirical claims (checks are shown, never counted)."""
    counts = dict.fromkeys(VERDICT_ORDER, 0)
    for section in sections:
        for claim in section["empirical"]:
            counts[claim["verdict"]] += 1
    return counts


def ledger_rows(sections: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """All ledger claims in order, each with the study claims that test it (none: "not yet tested")."""
    tests: dict[str, list[dict[str, Any]]] = {}
    for section in sections:
        for claim in section["result"]["claims"]:
            for cid in claim["ledger"]:
                tests.setdefault(cid, []).append(claim | {"study": section["result"]["study"]})
    return [{"id": c.id, "thought": c.thought, "sentence": c.sentence, "tests": tests.get(c.id, [])} for c in ledger()]


def build_report(run_dirs: list[Path], out_dir: Path, scale: str) -> Path:
    """Write ``report.html`` and ``report.json`` for the given complete runs; return the HTML path."""
    sections = [study_section(Path(d)) for d in run_dirs]
    generated = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("thoughtlab", "report"), autoescape=True, undefined=jinja2.StrictUndefined
    )
    ledger_table = ledger_rows(sections)
    html = env.get_template("report.html.j2").render(
        sections=sections, counts=verdict_counts(sections), scale=scale, generated=generated, ledger=ledger_table
    )
    out_dir = Path(out_dir)
    atomic_write_bytes(out_dir / "report.html", html.encode())
    atomic_write_json(
        out_dir / "report.json",
        {
            "generated": generated,
            "scale": scale,
            "verdict_counts": verdict_counts(sections),
            "ledger": [{"id": r["id"], "tests": [{"study": c["study"], "claim": c["id"], "kind": c["kind"],
                                                  "verdict": c["verdict"], "effect": c["effect"]} for c in r["tests"]]}
                       for r in ledger_table],
            "studies": [
                {
                    "run_dir": s["run_dir"],
                    "config": s["config"],
                    "figures": [{"path": f["path"], "caption": f["caption"]} for f in s["figures"]],
                    **{k: v for k, v in s["result"].items() if k != "figures"},
                }
                for s in sections
            ],
        },
    )
    return out_dir / "report.html"
