"""The studies thoughtlab knows, by id.

Each thought's folder defines ``STUDY`` in one module; this list names them.
Add a study by writing its module and appending its dotted path here.
"""

from __future__ import annotations

import importlib

from thoughtlab.errors import UnknownName
from thoughtlab.study import Study

STUDY_MODULES: tuple[str, ...] = (
    "thoughtlab.collapse.relu_collapse",
    "thoughtlab.collapse.linear_bottleneck",
    "thoughtlab.collapse.residual_depth",
)


def all_studies() -> dict[str, Study]:
    """Every registered study, in the order of the notes."""
    studies = [importlib.import_module(name).STUDY for name in STUDY_MODULES]
    return {s.id: s for s in studies}


def get_study(study_id: str) -> Study:
    studies = all_studies()
    if study_id not in studies:
        raise UnknownName("study", study_id, list(studies))
    return studies[study_id]
