"""Third-party BPMN (the OMG MIWG test suite) either deploys or gets a full list of problems."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.bpmn.validation import parse_and_validate
from engine.errors import InvalidBpmn


def _miwg_dir() -> Path | None:
    candidates = [Path(__file__).resolve().parents[4] / "shared"]
    if os.environ.get("FLOWDESK_SHARED_DIR"):
        candidates.insert(0, Path(os.environ["FLOWDESK_SHARED_DIR"]))
    for shared in candidates:
        folder = shared / "conformance" / "miwg"
        if folder.is_dir():
            return folder
    return None


MIWG = _miwg_dir()
FILES = (
    sorted((MIWG / "reference").glob("*.bpmn")) + sorted((MIWG / "bpmn-io-export").glob("*.bpmn"))
    if MIWG
    else []
)


@pytest.mark.skipif(
    MIWG is None,
    reason="MIWG corpus not found: expected ../shared/conformance/miwg or $FLOWDESK_SHARED_DIR",
)
def test_corpus_is_present() -> None:
    assert MIWG is not None
    assert len(FILES) >= 40


@pytest.mark.skipif(MIWG is None, reason="MIWG corpus not found")
@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.name}" for p in FILES])
def test_miwg_file_deploys_or_lists_its_problems(path: Path) -> None:
    content = path.read_bytes()
    try:
        parsed_files, processes = parse_and_validate(
            [(path.name, content)], library=[], max_bytes=4 * 1024 * 1024
        )
    except InvalidBpmn as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.message.strip()
            assert problem.file == path.name
            assert "Traceback" not in problem.message
        return
    assert processes
    assert [f.filename for f in parsed_files] == [path.name]
