"""The bad-input contract shared by the per-command tables (issue 12).

A refused input: exit status 2, exactly one line on stderr that names the thing and the fix, no
traceback, nothing on stdout, and no output file or folder left behind.
"""

from pathlib import Path

import pytest

from thoughtlab.cli import main


def tree(path: Path) -> list[str]:
    """Every file and folder under ``path`` (relative), to compare before and after a refused command."""
    return sorted(str(p.relative_to(path)) for p in path.rglob("*")) if path.is_dir() else []


@pytest.fixture
def refuse(capsys):
    """``refuse(argv, thing, fix, root=...)``: run the CLI in-process and assert the contract.

    ``root`` (a folder) must hold the same files afterwards: the refusal wrote nothing.
    """
    def check(argv: list[str], thing: str, fix: str, root: Path | None = None) -> str:
        before = tree(root) if root is not None else None
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        assert code == 2, f"exit {code}; stderr: {err}"
        assert err.endswith("\n") and err.count("\n") == 1, f"not one line: {err!r}"
        assert "Traceback" not in err and "weights_only=False" not in err
        assert thing in err, f"{thing!r} not named in {err!r}"
        assert fix in err, f"fix {fix!r} not in {err!r}"
        assert out == "", f"partial output on stdout: {out!r}"
        if root is not None:
            assert tree(root) == before, "the refused command left files behind"
        return err

    return check
