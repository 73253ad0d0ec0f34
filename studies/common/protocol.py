"""What a study module is, written once where code can check it (as scikit-learn's estimator
contract is): the CLI, the pages, the engine and the report rely on exactly these names."""
from __future__ import annotations

from typing import Any, Callable, Protocol, runtime_checkable

import altair as alt

from service.runner import Trial, TrialResult
from studies.common.schema import Schema
from studies.common.training import StudyResult


@runtime_checkable
class Study(Protocol):
    NAME: str                   # the page's URL path and the CLI's name
    TITLE: str
    FIGURES: str                # where it is in the lecture
    SUMMARY: str                # one line for the home page
    SCHEMA: Schema              # every parameter, its default, limits and help
    LABEL_KEYS: tuple           # what names a trial in progress lines
    TRIAL: Callable[[Trial], dict]                        # module-level, in common/training.py or trials/:
                                                          # workers import it, and no charting with it
    COST: Callable[[dict], tuple[float, float]]           # (FLOPs, calls) of one trial, see studies.common.cost
    PRESETS: dict[str, dict[str, str]]                    # the lecture's figures as parameter texts

    def plan(self, values: dict) -> list[dict]: ...                                   # one dict per trial
    def assemble(self, values: dict, results: list[TrialResult]) -> StudyResult: ...  # also from a partial run
    def charts_for(self, result: StudyResult, repeats: bool = False) -> list[alt.TopLevelMixin]: ...
    def compare(self, runs: list[tuple[str, StudyResult]]) -> list[alt.TopLevelMixin]: ...
    def takeaway(self, result: StudyResult) -> list[str]: ...                         # two lines
    def trial_detail(self, result: TrialResult) -> str: ...                           # for progress lines


def describes(study: Any) -> list[str]:
    """What ``study`` lacks of the protocol (empty when it is a study)."""
    names = [*Study.__annotations__, "plan", "assemble", "charts_for", "compare", "takeaway", "trial_detail"]
    return [name for name in names if not hasattr(study, name)]


