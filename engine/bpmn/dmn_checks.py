"""The checks of one DMN document: decision tables, their hit policies, rules and
input entries."""

from __future__ import annotations

from lxml import etree

from engine.bpmn.document import Document, Problems, text_of
from engine.bpmn.script_engine import check_expression
from engine.bpmn.vocabulary import SUPPORTED_HIT_POLICIES

# --------------------------------------------------------------------------- DMN checks


def check_dmn(doc: Document, problems: Problems) -> None:
    root = doc.root
    ns = etree.QName(root).namespace
    nsmap = root.nsmap
    if not (nsmap.get(None) == ns or (None not in nsmap and nsmap.get("dmn") == ns)):
        problems.add(root, key="dmn_p_namespace")

    def q(local: str) -> str:
        return f"{{{ns}}}{local}"

    decisions = root.findall(q("decision"))
    for nested in root.iter(q("decision")):
        if nested.getparent() is not root:
            problems.add(nested, key="dmn_p_nested_decision")
    if not decisions:
        problems.add(root, key="dmn_p_no_decision")
        return
    if len(decisions) > 1:
        names = ", ".join(d.get("id") or "?" for d in decisions)
        problems.add(root, key="dmn_p_many_decisions", count=len(decisions), names=names)
    for decision in decisions:
        if not decision.get("id"):
            problems.add(decision, key="dmn_p_decision_no_id")
        tables = decision.findall(q("decisionTable"))
        if not tables:
            problems.add(decision, key="dmn_p_no_table")
            continue
        for table in tables:
            _check_decision_table(table, q, problems)


def _entry_text(entry: etree._Element) -> str | None:
    """Return an entry's text as SpiffWorkflow reads it (the last `text` child), None if none."""
    texts = [child for child in entry if isinstance(child.tag, str) and child.tag.endswith("text")]
    return text_of(texts[-1]) if texts else None


def _check_decision_table(table: etree._Element, q, problems: Problems) -> None:  # type: ignore[no-untyped-def]
    policy = (table.get("hitPolicy") or "UNIQUE").strip().upper()
    if policy not in SUPPORTED_HIT_POLICIES:
        problems.add(table, key="dmn_p_hit_policy", policy=policy)
    if table.get("aggregation"):
        problems.add(table, key="dmn_p_aggregation", aggregation=table.get("aggregation"))
    if not table.get("id"):
        problems.add(table, key="dmn_p_table_no_id")
    inputs: list[etree._Element] = []
    outputs: list[etree._Element] = []
    rules: list[etree._Element] = []
    for child in table:
        if not isinstance(child.tag, str):
            continue
        local = etree.QName(child).localname
        if local in ("input", "output") and rules:
            # SpiffWorkflow reads the table top to bottom: a rule cannot use a later column.
            problems.add(child, key="dmn_p_columns_after_rules")
        if local == "input":
            inputs.append(child)
        elif local == "output":
            outputs.append(child)
        elif local == "rule":
            rules.append(child)
        else:
            problems.add(child, key="dmn_p_unknown_child", local=local)
    for column in inputs + outputs:
        if not column.get("id"):
            problems.add(column, key="dmn_p_column_no_id")
    for column in inputs:
        label = column.get("label") or column.get("id")
        expression = text_of(column.find(f"{q('inputExpression')}/{q('text')}"))
        if not expression:
            problems.add_raw(column.get("id"), label, key="dmn_p_input_no_expression")
            continue
        message = check_expression(expression)
        if message:
            problems.add_raw(
                column.get("id"), label, key="dmn_p_input_expression_invalid", detail=message
            )
    for column in outputs:
        if not (column.get("name") or column.get("label")):
            problems.add(column, key="dmn_p_output_no_name")
    for number, rule in enumerate(rules, start=1):
        _check_rule(rule, number, inputs, outputs, problems)


def _check_rule(
    rule: etree._Element,
    number: int,
    inputs: list[etree._Element],
    outputs: list[etree._Element],
    problems: Problems,
) -> None:
    where = f"rule {number}"
    if not rule.get("id"):
        problems.add(rule, key="dmn_p_rule_no_id", where=where, number=number)
    entries, results = [], []
    for child in rule:
        if isinstance(child.tag, str) and child.tag.endswith("inputEntry"):
            entries.append(child)
        elif isinstance(child.tag, str) and child.tag.endswith("outputEntry"):
            results.append(child)
    if len(entries) > len(inputs) or len(results) > len(outputs):
        problems.add(rule, key="dmn_p_rule_too_many_entries", where=where, number=number)
        return
    for entry, column in zip(entries, inputs, strict=False):
        label = column.get("label") or column.get("id")
        if not entry.get("id"):
            problems.add(rule, key="dmn_p_input_entry_no_id", where=where, number=number)
        text = _entry_text(entry)
        if text is None:
            problems.add(rule, key="dmn_rule_input_empty", where=where, number=number, column=label)
            continue
        message = _input_entry_problem(text)
        if message:
            problems.add(
                rule,
                key="dmn_rule_input_invalid",
                where=where,
                number=number,
                column=label,
                detail=message,
            )
    for entry, column in zip(results, outputs, strict=False):
        label = column.get("name") or column.get("label") or column.get("id")
        if not entry.get("id"):
            problems.add(rule, key="dmn_p_output_entry_no_id", where=where, number=number)
        text = _entry_text(entry)
        message = check_expression(text) if text else None
        if message:
            problems.add(
                rule,
                key="dmn_rule_output_invalid",
                where=where,
                number=number,
                column=label,
                heading=column.get("label") or label,  # what the table's editor shows
                detail=message,
            )


def _input_entry_problem(text: str) -> str | None:
    """Check a rule's input entry the ways SpiffWorkflow's DMN engine reads it."""
    if not text or text == "-":
        return None
    if "?" in text:
        # `4 < ? < 6`: the engine puts the input where the question mark is.
        message = check_expression(text.replace("?", "dmninputexpr"))
        return f"the test is not valid: {message}" if message else None
    if check_expression(text) is None or check_expression(f"dmninputexpr {text}") is None:
        return None
    return f"the test is not valid: {check_expression(text)}"
