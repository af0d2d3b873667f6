"""Parsing untrusted BPMN/DMN XML without entity expansion, DTDs, files or network."""

from __future__ import annotations

import re

from lxml import etree

from engine.errors import BpmnProblem, InvalidBpmn

_DOCTYPE = b"<!DOCTYPE"
_ENTITY = b"<!ENTITY"
_POSITION_SUFFIX = re.compile(r",\s*line \d+, column \d+\s*$")


class _RefuseEverything(etree.Resolver):
    """Answer every request for an external resource with nothing.

    With DTD loading and entity resolution off libxml2 should never ask; this
    makes sure that if it ever does, no file or URL is read.
    """

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    def resolve(self, system_url, public_id, context):  # type: ignore[no-untyped-def]
        self.asked.append(str(system_url or public_id))
        return self.resolve_string("", context)


def _refuse(message: str, filename: str) -> InvalidBpmn:
    return InvalidBpmn([BpmnProblem(None, None, message, filename)])


def _declares_entities(data: bytes) -> bool:
    """Tell whether raw bytes hold a DOCTYPE with an entity declaration.

    Checked before parsing so that an entity bomb never reaches the parser; the
    NUL-stripped copy catches the same markup in UTF-16 files.
    """
    for candidate in (data, data.replace(b"\x00", b"")):
        if _DOCTYPE in candidate and _ENTITY in candidate:
            return True
    return False


def _new_parser() -> etree.XMLParser:
    # A parser per call: lxml parsers must not be shared between threads.
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        dtd_validation=False,
        attribute_defaults=False,
        remove_comments=True,
        remove_pis=True,
    )
    parser.resolvers.add(_RefuseEverything())
    return parser


def parse_xml(data: bytes, *, filename: str, max_bytes: int) -> etree._Element:
    """Parse untrusted XML into its root element; raise InvalidBpmn on any refusal."""
    if len(data) > max_bytes:
        raise _refuse(
            f"the file is {len(data):,} bytes, larger than the limit of {max_bytes:,} bytes",
            filename,
        )
    if not data.strip():
        raise _refuse("the file is empty", filename)
    if _declares_entities(data):
        raise _refuse(
            "the file declares XML entities (<!ENTITY ...> in a DOCTYPE); "
            "entities are refused because they can expand without bound or read files",
            filename,
        )
    parser = _new_parser()
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        where = f" at line {exc.lineno}" if exc.lineno else ""
        detail = _POSITION_SUFFIX.sub("", exc.msg or str(exc))
        raise _refuse(f"the file is not well-formed XML{where}: {detail}", filename) from None
    except (ValueError, etree.LxmlError) as exc:
        raise _refuse(f"the file cannot be read as XML: {exc}", filename) from None
    if root is None:
        raise _refuse("the file holds no XML element", filename)
    _check_doctype(root, filename)
    return root


def _check_doctype(root: etree._Element, filename: str) -> None:
    """Refuse what the byte check cannot see: entities in other encodings, external DTDs."""
    docinfo = root.getroottree().docinfo
    if docinfo.system_url or docinfo.public_id:
        raise _refuse(
            "the file refers to an external DTD (DOCTYPE ... SYSTEM/PUBLIC); "
            "external DTDs are refused: BPMN files need none",
            filename,
        )
    dtd = docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.entities()):
        raise _refuse(
            "the file declares XML entities in its DOCTYPE; entities are refused",
            filename,
        )
    if dtd is not None and any(True for _ in dtd.iterelements()):
        raise _refuse(
            "the file carries DTD declarations in its DOCTYPE; BPMN files need none",
            filename,
        )
    for node in root.iter(etree.Entity):
        raise _refuse(f"the file uses the XML entity {node.text}; entities are refused", filename)
