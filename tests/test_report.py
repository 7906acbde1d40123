import base64

from thoughtlab.report import build_report, format_metric
from thoughtlab.runner import execute
from thoughtlab.runs import read_json


def test_format_metric_shows_uncertainty():
    assert format_metric({"mean": 0.5, "std": 0.1, "n": 3}) == "0.5 ± 0.1 (sd over 3 seeds)"
    one = {"mean": 0.25, "std": 0.0, "n": 1, "spread": [0.02], "spread_kind": "95% CI half-width"}
    assert format_metric(one) == "0.25 ± 0.02 (95% CI half-width)"
    assert format_metric({"mean": 1.5e-7, "std": 0.0, "n": 1}) == "1.500e-07"


def test_report_is_self_contained_html_and_json(fake_study, tmp_path):
    run_dir = execute(fake_study, "smoke", [0, 1], tmp_path / "runs", "cpu")
    html_path = build_report([run_dir], tmp_path / "out", "smoke")
    html = html_path.read_text()
    result = read_json(run_dir / "result.json")
    png = (run_dir / "figures" / "heads.png").read_bytes()
    assert base64.b64encode(png).decode() in html
    assert "The claims ledger" in html and "The coin is fair." in html and "not yet tested" in html
    assert html.count("not yet tested") == 29  # the fake study tests c1 only
    assert "supported if |heads - 0.5| &lt; 0.05" in html  # autoescaped criterion
    assert result["claims"][0]["verdict"] in html and result["run_id"] in html
    report = read_json(tmp_path / "out" / "report.json")
    (study,) = report["studies"]
    assert study["claims"][0]["verdict"] == result["claims"][0]["verdict"]
    assert study["metrics"] == result["metrics"] and study["config"]["seeds"] == [0, 1]
    assert sum(report["verdict_counts"].values()) == 1


def test_report_totals_the_studies_time(fake_study, tmp_path):
    runs = [execute(fake_study, "smoke", [seed], tmp_path / "runs", "cpu") for seed in (0, 1)]
    html = build_report(runs, tmp_path / "out", "smoke").read_text()
    total = sum(read_json(r / "result.json")["duration_s"] for r in runs) / 60
    assert f"<td>all studies</td>" in html and f"{total:.1f} min" in html
