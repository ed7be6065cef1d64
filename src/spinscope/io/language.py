"""Language codes: validating a given one, detecting the language of a text (lingua)."""

from __future__ import annotations

from functools import lru_cache

from lingua import Language, LanguageDetectorBuilder

from ..document import Article
from ..errors import InputError

#: Languages the detector chooses among (ISO 639-1); an explicit language may be any code
#: the detector knows, since the embeddings are multilingual.
DETECTED_LANGUAGES = [
    "en",
    "fr",
    "de",
    "it",
    "pl",
    "ru",
    "es",
    "el",
    "ka",
    "bg",
    "pt",
    "sl",
    "uk",
    "ar",
    "hi",
    "nl",
    "ro",
    "cs",
    "hr",
    "sr",
    "tr",
    "sv",
    "da",
    "fi",
    "hu",
    "sk",
    "lt",
    "lv",
    "et",
]
#: Codes in use that are not ISO 639-1 (the SemEval data folders name German ``ge``,
#: Polish ``po`` and Greek ``gr``), with the ISO code they mean.
ALIASES = {"ge": "de", "po": "pl", "gr": "el"}


def iso_code(code: str) -> str:
    """The ISO 639-1 code of ``code`` when it is a known alias, else ``code`` as given."""
    return ALIASES.get(code, code)


def normalise_language(code: str) -> str:
    """Validate a language code (ISO 639-1 or an alias such as ``ge``); return its ISO code."""
    iso = iso_code(code.lower())
    if iso not in known_languages():
        raise InputError(f"unknown language code {code!r}: use an ISO 639-1 code such as en, fr, de, es")
    return iso


@lru_cache(maxsize=1)
def known_languages() -> frozenset[str]:
    return frozenset(language.iso_code_639_1.name.lower() for language in Language.all())


@lru_cache(maxsize=1)
def _detector():
    languages = [x for x in Language.all() if x.iso_code_639_1.name.lower() in DETECTED_LANGUAGES]
    # Low-accuracy mode loads only trigram models: ~40 MB and well under a second, and
    # articles are long enough for it to be reliable.
    return LanguageDetectorBuilder.from_languages(*languages).with_low_accuracy_mode().build()


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the main language of ``text``, or ``None`` when unsure."""
    # The detector takes UTF-8: a lone surrogate (from a JSON escape) would make it raise.
    sample = text[:5000].encode("utf-8", errors="replace").decode("utf-8")
    language = _detector().detect_language_of(sample)
    return language.iso_code_639_1.name.lower() if language else None


def with_language(article: Article, lang: str | None) -> Article:
    """``article`` with the language ``lang`` (validated) or, when ``None``, the detected one."""
    language = normalise_language(lang) if lang else detect_language(article.text)
    return article.with_language(language)
