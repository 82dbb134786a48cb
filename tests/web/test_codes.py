"""Every code the domain raises or stores has a sentence, in every language: a code
without one would reach a worker or a dispatcher as "Something is wrong"."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from mobility.codes import UnservedReason
from mobility.i18n import CATALOGUES, LANGUAGES
from web.i18n import _MESSAGES, _NOT_FOUND, REASON_ACTIONS, REASON_TEXTS

ROOT = Path(__file__).resolve().parent.parent.parent


def raised_codes() -> dict[str, str]:
    """Code -> a file raising it: every ``ServiceError(field, "code", ...)`` (and its
    subclasses) in mobility/ and web/."""
    found: dict[str, str] = {}
    for package in ("mobility", "web"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call) or len(node.args) < 2:
                    continue
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                code = getattr(node.args[1], "value", None)
                if name.endswith("Error") and isinstance(code, str) and code.isidentifier():
                    found.setdefault(code, str(path.relative_to(ROOT)))
    return found


def test_the_scan_finds_the_codes_it_is_meant_to() -> None:
    codes = raised_codes()
    assert {"date_past", "not_found", "run_active", "no_plan"} <= codes.keys()


def test_every_raised_error_code_has_a_sentence() -> None:
    missing = {code: where for code, where in raised_codes().items() if code not in _MESSAGES}
    assert missing == {}


def test_every_unserved_reason_has_a_sentence_and_an_action() -> None:
    assert set(REASON_TEXTS) == set(UnservedReason) == set(REASON_ACTIONS)


def _sentences() -> list[str]:
    lazy = [*_MESSAGES.values(), *_NOT_FOUND.values()]
    lazy += [*REASON_TEXTS.values(), *REASON_ACTIONS.values()]
    return sorted({s._args[0] for s in lazy})  # a LazyString's message id


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_code_sentence_is_translated(language: str) -> None:
    path = CATALOGUES / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as f:
        catalogue = read_po(f)
    untranslated = [
        msgid
        for msgid in _sentences()
        if (m := catalogue.get(msgid)) is None or not m.string or m.fuzzy
    ]
    assert untranslated == []
