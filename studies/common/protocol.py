"""What a study module is, written once where code can check it (as scikit-learn's estimator
contract is): the CLI, the pages, the engine and the report rely on these names, and on the optional
hooks declared below (``HOOKS``) where a study has them; nothing else is probed."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Protocol, runtime_checkable

from service.runner import Trial, TrialResult
from studies.common.schema import Schema
from studies.common.training import StudyResult

if TYPE_CHECKING:  # the annotations only: the engine's side imports no charting
    import altair as alt


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
    QUICK: dict[str, str]       # the tests' run: seconds, every chart drawn; its first value (a whole number)
                                # differs from the default, so its link differs from the defaults' link

    def plan(self, values: dict) -> list[dict]: ...                                   # one dict per trial
    def assemble(self, values: dict, results: list[TrialResult]) -> StudyResult: ...  # also from a partial run
    def charts_for(self, result: StudyResult, repeats: bool = False) -> list[alt.TopLevelMixin]: ...
    def compare(self, runs: list[tuple[str, StudyResult]]) -> list[alt.TopLevelMixin]: ...
    def takeaway(self, result: StudyResult) -> list[str]: ...                         # two lines
    def trial_detail(self, result: TrialResult) -> str: ...                           # for progress lines


# Optional hooks, each declared once and tested like the contract above (tests/studies/test_study_contract.py).
@runtime_checkable
class WaveStudy(Protocol):
    """A study whose later trials depend on the finished ones (k-fold's retraining, the search)."""

    def next_wave(self, values: dict, results: list[TrialResult]) -> list[dict]: ...  # [] when done


@runtime_checkable
class BoundedStudy(Protocol):
    """A study whose plan grows by waves: the limits are checked against what it could come to."""

    def bounding_plan(self, values: dict) -> list[dict]: ...  # every trial it may run, at its costliest


@runtime_checkable
class ComparingStudy(Protocol):
    """A study whose page weighs this run against its stored runs with other settings (the samplers)."""

    def related(self, values: dict) -> list[dict]: ...                              # the other runs' values
    def against(self, result: StudyResult, others: list[StudyResult]) -> str: ...   # "" when nothing to say


HOOKS = (WaveStudy, BoundedStudy, ComparingStudy)


def describes(study: Any) -> list[str]:
    """What ``study`` lacks of the protocol (empty when it is a study)."""
    names = [*Study.__annotations__, "plan", "assemble", "charts_for", "compare", "takeaway", "trial_detail"]
    lacking = [name for name in names if not hasattr(study, name)]
    for hook in HOOKS:  # a hook is all of its protocol or none of it
        own = [name for name in hook.__dict__ if not name.startswith("_") and callable(getattr(hook, name))]
        if any(hasattr(study, name) for name in own):
            lacking += [name for name in own if not hasattr(study, name)]
    return lacking


