"""Every registered study, end to end through the CLI at smoke scale."""

import json
from pathlib import Path

import pytest

from thoughtlab.cli import main
from thoughtlab.registry import STUDY_MODULES, all_studies
from thoughtlab.runs import RunIndex


def test_every_study_module_is_registered_once():
    studies = all_studies()
    assert len(studies) == len(STUDY_MODULES)
    for study in studies.values():
        assert set(study.scales) == {"smoke", "quick", "full"}
        assert len({c.id for c in study.claims}) == len(study.claims) > 0


@pytest.mark.parametrize("study_id", list(all_studies()))
def test_study_runs_through_the_cli(study_id, tmp_path, capsys):
    assert main(["run", study_id, "--scale", "smoke", "--runs-dir", str(tmp_path)]) == 0
    (row,) = RunIndex(tmp_path).rows()
    assert row.complete
    result = json.loads((Path(row.path) / "result.json").read_text())
    study = all_studies()[study_id]
    assert [c["id"] for c in result["claims"]] == [c.id for c in study.claims]
    for claim in result["claims"]:
        assert claim["verdict"] in ({"holds", "fails"} if claim["kind"] == "check" else {"supported", "refuted", "inconclusive"})
        assert set(claim["measures"]) <= set(result["metrics"])
    assert result["figures"] and all((Path(row.path) / f["file"]).stat().st_size > 1000 for f in result["figures"])
    assert study_id in capsys.readouterr().out
