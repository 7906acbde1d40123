"""The studies thoughtlab knows, by id.

Each thought's folder defines ``STUDY`` in one module; this list names them.
Add a study by writing its module and appending its dotted path here, or,
without touching the package, by naming your module in the environment
variable ``THOUGHTLAB_STUDIES`` (comma-separated dotted paths, importable from
``PYTHONPATH``).
"""

from __future__ import annotations

import importlib
import os

from thoughtlab.errors import UnknownName, UserError
from thoughtlab.study import Study

STUDY_MODULES: tuple[str, ...] = (  # in the order of the notes (thought 5: P1, P2, P3, P4, P5)
    "thoughtlab.collapse.relu_collapse",
    "thoughtlab.collapse.linear_bottleneck",
    "thoughtlab.collapse.residual_depth",
    "thoughtlab.attention.study",
    "thoughtlab.cyclegan.study",
    "thoughtlab.csp.study",
    "thoughtlab.generative.tradeoffs",
    "thoughtlab.generative.distributions",
    "thoughtlab.generative.beyond_images",
    "thoughtlab.generative.gan_evaluation",
    "thoughtlab.generative.likelihood",
    "thoughtlab.generative.batch_size",
)


def all_studies() -> dict[str, Study]:
    """Every registered study, in the order of the notes."""
    extra = [m.strip() for m in os.environ.get("THOUGHTLAB_STUDIES", "").split(",") if m.strip()]
    studies = [load_study_module(name) for name in (*STUDY_MODULES, *extra)]
    return {s.id: s for s in studies}


def load_study_module(name: str) -> Study:
    """The ``STUDY`` defined by module ``name``."""
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if name in STUDY_MODULES:
            raise
        raise UserError(f"cannot import study module {name!r} named in THOUGHTLAB_STUDIES ({exc}); fix PYTHONPATH or the name") from None
    if not isinstance(getattr(module, "STUDY", None), Study):
        raise UserError(f"module {name!r} defines no STUDY (a thoughtlab.study.Study); add one")
    return module.STUDY


def get_study(study_id: str) -> Study:
    studies = all_studies()
    if study_id not in studies:
        raise UnknownName("study", study_id, list(studies))
    return studies[study_id]
