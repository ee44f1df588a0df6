from pathlib import Path

from approvals.workflow_doc import render_workflow_markdown
from approvals.guards import GUARDS
from approvals.workflow import TRANSITIONS

DOC = Path(__file__).resolve().parents[2] / "docs" / "workflow.md"


def test_docs_workflow_is_generated_from_the_table():
    assert DOC.read_text(encoding="utf-8") == render_workflow_markdown(), (
        "docs/workflow.md is stale: run python manage.py workflow_doc > docs/workflow.md"
    )


def test_every_guard_named_in_the_table_exists_and_is_documented():
    for transition in TRANSITIONS.values():
        for name in transition.guards:
            assert name in GUARDS, (transition.name, name)
    for name, fn in GUARDS.items():
        assert (fn.__doc__ or "").strip(), name
