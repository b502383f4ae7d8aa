"""How the packages use each other, beyond "imports point one way" (tests/repo/test_repo.py): no
import circle; bot/ and training/ reach model/ through its front door and a few named modules; no
handler imports another handler; one module writes the result log; the model tests reach training/
only through tests/support."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import model
from tests.support.imports import (
    REPO,
    circle,
    graph,
    imported_names,
    module_name,
    runtime_imports,
)

NO_CIRCLE = ("model", "db", "bot", "training")
# Beside `model` itself, what the bot may import of model (docs/ARCHITECTURE.md, model/).
BOT_MAY_IMPORT = {
    "model",
    "model.words",
    "model.words.*",  # the words package whole: `from model.words import render`
    "model.decision.onset",
    "model.decision.followup",
    "model.decision.distress",
}
# ResultLog's writes: only bot/journal.py calls them.
LOG_WRITES = {"submit", "submit_exam_end", "end_exam", "record_onset"}
# Beside `model` itself, the modules of model/ that training/ may import (docs/ARCHITECTURE.md,
# "training/"): what it must share with serving so that training and serving cannot drift apart.
TRAINING_MAY_IMPORT = {
    "model",
    # the classifier contract that export writes, and the softmax serving puts on its logits
    "model.cnn.contract",
    "model.cnn.softmax",
    # serving's own preparation of a photo: decoding, the face and its mesh's points, the crop
    "model.face.decode",
    "model.face.locate",
    "model.face.landmarks",
    "model.face.preprocess",
    # the measures the grader and the exam are fitted on
    "model.measures.asymmetry",
    "model.measures.expression",
    # what training fits and writes: the grader's, the exam's and the calibration's parameters,
    # over the class names
    "model.decision.grader",
    "model.decision.exam",
    "model.decision.confidence",
    "model.labels",
}


def _model_modules() -> set[str]:
    return {module_name(p) for p in (REPO / "model").rglob("*.py")}


def test_the_circle_finder_finds_one() -> None:
    assert circle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert circle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_no_import_circle() -> None:
    found = circle(graph(NO_CIRCLE))
    assert found is None, " -> ".join(found or [])


def test_late_imports_count_and_type_checking_ones_do_not() -> None:
    """A late import ties two modules as firmly as one at the top; TYPE_CHECKING ones do not."""
    names = imported_names(REPO / "model" / "__init__.py")
    assert "importlib" in names and "model.pipeline" not in names  # TYPE_CHECKING only
    assert "training.cnn.cv.cross_validate_cnn" in imported_names(REPO / "training" / "__main__.py")


def _through_the_front_door(path: Path, allowed: set[str]) -> None:
    """Every import of model/ in `path` is of a module in `allowed` (`pkg.*`: any module of
    pkg), and a name `model` serves is imported from `model` itself."""
    modules, served = _model_modules(), set(model.__all__)
    where = str(path.relative_to(REPO))
    for node in runtime_imports(path):
        if isinstance(node, ast.Import):
            used = [(a.name, None) for a in node.names]
        else:
            used = [(node.module or "", a.name) for a in node.names]
        for module, item in used:
            if module.split(".")[0] != "model":
                continue
            if item is not None and f"{module}.{item}" in modules:
                module, item = f"{module}.{item}", None  # `from model.measures import asymmetry`
            whole = f"{module.rpartition('.')[0]}.*" in allowed
            assert module in allowed or whole, f"{where} imports {module}: go through `model`"
            if module == "model":
                assert item in served, f"{where}: model.{item} is not public"
            else:
                assert item not in served, f"{where}: `{item}` is public: import it from `model`"


@pytest.mark.parametrize(
    "path", sorted((REPO / "training").rglob("*.py")), ids=lambda p: str(p.relative_to(REPO))
)
def test_training_reaches_model_through_its_front_door(path: Path) -> None:
    _through_the_front_door(path, TRAINING_MAY_IMPORT)


@pytest.mark.parametrize("path", sorted((REPO / "bot").rglob("*.py")), ids=lambda p: p.name)
def test_bot_reaches_model_through_its_front_door(path: Path) -> None:
    _through_the_front_door(path, BOT_MAY_IMPORT)


def test_the_front_door_lists_what_it_serves() -> None:
    """`__all__`, the lazy table and the names themselves agree."""
    assert sorted(model._PUBLIC) == sorted(model.__all__)
    for name in model.__all__:
        assert getattr(model, name) is not None


def test_the_allowed_modules_are_named_in_architecture() -> None:
    text = (REPO / "docs" / "ARCHITECTURE.md").read_text()
    unnamed = {m for m in TRAINING_MAY_IMPORT - {"model"} if f"`{m}`" not in text}
    assert not unnamed, f"docs/ARCHITECTURE.md does not say why training may import {unnamed}"


@pytest.mark.parametrize(
    "path", sorted((REPO / "tests" / "model").rglob("*.py")), ids=lambda p: p.name
)
def test_model_tests_reach_training_only_through_support(path: Path) -> None:
    """What a model test needs of training/ (the London templates' reader, synthetic palsy,
    the exam's warps) comes from tests/support, so tests/model mirrors model/ alone."""
    training = {n for n in imported_names(path) if n.split(".")[0] == "training"}
    assert not training, f"{path.relative_to(REPO)} imports {sorted(training)}: use tests/support"


def test_no_handler_imports_another_handler() -> None:
    for path in (REPO / "bot" / "handlers").glob("*.py"):
        handlers = {n for n in imported_names(path) if n.startswith("bot.handlers")}
        assert not handlers, (
            f"{path.relative_to(REPO)} imports {sorted(handlers)}: share a non-handler module"
        )


def test_one_module_writes_the_result_log() -> None:
    for path in (REPO / "bot").rglob("*.py"):
        if path.name == "journal.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                assert node.func.attr not in LOG_WRITES, (
                    f"{path.relative_to(REPO)}:{node.lineno} writes the result log "
                    f"({node.func.attr}): go through bot/journal.py"
                )
