"""Hostile XML never expands, never reads a file, never reaches the network."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from engine.bpmn.safe_xml import parse_xml
from engine.errors import InvalidBpmn

LIMIT = 1_000_000
PLAIN = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">'
    b'<bpmn:process id="p" isExecutable="true"/></bpmn:definitions>'
)


def _refusal(data: bytes, *, max_bytes: int = LIMIT) -> str:
    with pytest.raises(InvalidBpmn) as caught:
        parse_xml(data, filename="hostile.bpmn", max_bytes=max_bytes)
    [problem] = caught.value.problems
    assert problem.file == "hostile.bpmn"
    assert problem.element_id is None and problem.element_name is None
    assert problem.message
    return problem.message


def test_plain_bpmn_parses() -> None:
    root = parse_xml(PLAIN, filename="ok.bpmn", max_bytes=LIMIT)
    assert root.tag == "{http://www.omg.org/spec/BPMN/20100524/MODEL}definitions"
    assert root[0].get("id") == "p"


def test_bare_doctype_without_declarations_is_accepted() -> None:
    data = PLAIN.replace(b"?>", b"?><!DOCTYPE definitions>", 1)
    assert parse_xml(data, filename="ok.bpmn", max_bytes=LIMIT).get("id") == "d"


def test_billion_laughs_is_refused_quickly() -> None:
    entities = [b'<!ENTITY lol "lol">'] + [
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    ]
    bomb = b'<?xml version="1.0"?><!DOCTYPE lolz [' + b"".join(entities) + b"]><lolz>&lol9;</lolz>"
    started = time.perf_counter()
    message = _refusal(bomb)
    assert time.perf_counter() - started < 1
    assert "entities" in message


def test_external_entity_never_reads_the_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "{secret.as_uri()}">]><r>&x;</r>'
    ).encode()
    message = _refusal(xxe)
    assert "TOP-SECRET-VALUE" not in message
    assert "entities" in message


def test_external_entity_in_utf16_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    xxe = (
        f'<?xml version="1.0" encoding="UTF-16"?>'
        f'<!DOCTYPE r [<!ENTITY x SYSTEM "{secret.as_uri()}">]><r>&x;</r>'
    ).encode("utf-16")
    assert "TOP-SECRET-VALUE" not in _refusal(xxe)


def test_parameter_entity_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.dtd"
    secret.write_text('<!ENTITY leak "TOP-SECRET-VALUE">')
    data = (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "{secret.as_uri()}"> %p;]>'
        f"<r>&leak;</r>"
    ).encode()
    message = _refusal(data)
    assert "TOP-SECRET-VALUE" not in message


@pytest.mark.parametrize(
    "system_id", ["http://127.0.0.1:9/evil.dtd", "file:///etc/passwd", "evil.dtd"]
)
def test_external_dtd_is_refused(system_id: str) -> None:
    data = f'<?xml version="1.0"?><!DOCTYPE r SYSTEM "{system_id}"><r/>'.encode()
    assert "external DTD" in _refusal(data)


def test_oversized_file_is_refused_before_parsing() -> None:
    message = _refusal(PLAIN + b" " * 200, max_bytes=len(PLAIN))
    assert "larger than the limit" in message and f"{len(PLAIN):,}" in message


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b"<a>\n<b>\n</a>", 3),
        (b"<a>\n  <b x=1/>\n</a>", 2),
        (b"<a>&undefined;</a>", 1),
    ],
)
def test_malformed_xml_names_the_line(data: bytes, line: int) -> None:
    message = _refusal(data)
    assert "not well-formed XML" in message
    assert f"line {line}" in message


@pytest.mark.parametrize("data", [b"", b"   \n", b"not xml at all"])
def test_empty_or_text_is_refused(data: bytes) -> None:
    _refusal(data)


def test_comments_and_processing_instructions_are_dropped() -> None:
    data = PLAIN.replace(b"<bpmn:process", b"<!-- note --><?pi x?><bpmn:process")
    root = parse_xml(data, filename="ok.bpmn", max_bytes=LIMIT)
    assert [child.get("id") for child in root] == ["p"]
