"""Languages of the service and its translation catalogues.

The catalogues (``mobility/translations/<lang>/LC_MESSAGES/messages.po``) hold every
user-facing string: the web pages (through Flask-Babel), and what is written outside
a web request, such as route sheets and messages to workers.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Final

from babel.support import NullTranslations, Translations

__all__ = ["CATALOGUES", "LANGUAGES", "RTL_LANGUAGES", "gettext_for", "translations"]

#: The languages of the service, Italian first (the default).
LANGUAGES: Final = ("it", "en", "fr", "ar", "bg", "ro")
#: Languages written right to left.
RTL_LANGUAGES: Final = frozenset({"ar"})
CATALOGUES: Final = Path(__file__).resolve().parent / "translations"


@lru_cache(maxsize=len(LANGUAGES))
def translations(language: str) -> NullTranslations:
    """The compiled catalogue of ``language`` (Italian for an unknown language)."""
    if language not in LANGUAGES:
        language = LANGUAGES[0]
    return Translations.load(str(CATALOGUES), [language])


def gettext_for(language: str) -> Callable[[str], str]:
    """A ``gettext`` function for ``language``."""
    return translations(language).gettext
