"""Shared fixtures: small invented articles, a SemEval-style folder builder, the real data.

Every article text here is invented for these tests (no third-party text).
"""
from __future__ import annotations

from pathlib import Path

import pytest

#: The SemEval-2023 data, when this checkout sits next to ``shared/`` (never committed).
SEMEVAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "semeval2023"
#: The SemEval-2025 Task 10 data (narratives, entity roles), likewise.
SEMEVAL2025_DIR = SEMEVAL_DIR.parent / "semeval2025"

#: An invented English article in the SemEval layout: title, blank line, body lines.
#: Line 4 is blank and line 6 holds only spaces and a tab: both are skipped but counted.
EN_LINES = [
    "Harbour bridge reopens after eight months of repairs",
    "",
    "The old harbour bridge reopened to traffic on Monday morning.",
    "",
    "Engineers replaced rusted cables and resurfaced the whole deck, the council said.",
    "   \t ",
    "Shop owners said customers were already coming back.",
]

#: An invented French article (accents, guillemets, typographic apostrophe).
FR_LINES = [
    "Le conseil municipal vote la fermeture de la piscine",
    "",
    "Le conseil municipal a voté hier soir la fermeture de la piscine, jugée trop coûteuse.",
    "Selon le maire, « il n’y avait pas d’autre choix » : la rénovation aurait coûté deux millions d’euros.",
    "",
    "L’opposition parle d’une décision précipitée et réclame un référendum local.",
]

#: Invented one-paragraph texts for language detection.
LANGUAGE_SAMPLES = {
    "en": "The city council approved the new budget on Tuesday after a long debate about school "
          "funding and road repairs. Several residents said they were worried about rising taxes.",
    "fr": "Le conseil municipal a adopté mardi le nouveau budget après un long débat sur le financement "
          "des écoles et la réparation des routes. Plusieurs habitants se disent inquiets.",
    "de": "Der Stadtrat hat am Dienstag nach einer langen Debatte über die Finanzierung der Schulen und "
          "die Reparatur der Straßen den neuen Haushalt beschlossen. Viele Bürger sind besorgt.",
    "ru": "Городской совет во вторник утвердил новый бюджет после долгих споров о финансировании школ "
          "и ремонте дорог. Многие жители обеспокоены ростом налогов.",
    "es": "El ayuntamiento aprobó el martes el nuevo presupuesto después de un largo debate sobre la "
          "financiación de las escuelas y la reparación de las carreteras. Muchos vecinos están preocupados.",
}

#: A small invented news page: <title>, navigation and footer boilerplate, scripts, paragraphs.
HTML_TITLE = "Harbour bridge reopens after repairs"
HTML_PARAGRAPHS = [
    "The old harbour bridge reopened to traffic on Monday morning after eight months of repairs "
    "that cost the city far more than planned.",
    "Engineers replaced rusted cables and resurfaced the whole deck, the council said in a "
    "statement, adding that the work was finished two weeks early.",
    "Local shop owners, who had complained of falling sales during the closure, welcomed the "
    "news and said customers were already coming back.",
]
SCRIPT_MARKERS = ("SCRIPT_SHOULD_NOT_LEAK", "ANOTHER_SCRIPT_LEAK", "trackingSecret")
HTML_PAGE = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{HTML_TITLE}</title>
<script>var trackingSecret = "SCRIPT_SHOULD_NOT_LEAK"; console.log(trackingSecret);</script>
<style>body {{ color: #333; }}</style></head>
<body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li><li><a href="/sport">Sport</a></li></ul></nav>
<article>
<h1>{HTML_TITLE}</h1>
<p>{HTML_PARAGRAPHS[0]}</p>
<p>{HTML_PARAGRAPHS[1]}</p>
<script>document.write("ANOTHER_SCRIPT_LEAK");</script>
<p>{HTML_PARAGRAPHS[2]}</p>
</article>
<footer><p>Copyright Example Gazette. All rights reserved.</p></footer>
</body></html>
"""


def join(lines: list[str], newline: str = "\n", bom: bool = False) -> str:
    """``lines`` joined with ``newline`` and a final line break, optionally after a BOM."""
    return ("\ufeff" if bom else "") + newline.join(lines) + newline


@pytest.fixture(scope="session", autouse=True)
def embedding_cache(tmp_path_factory) -> Path:
    """Every test embeds into one temporary cache, never the user's ``~/.cache/spinscope``."""
    folder = tmp_path_factory.mktemp("spinscope-cache")
    patch = pytest.MonkeyPatch()
    patch.setenv("SPINSCOPE_CACHE", str(folder))
    yield folder
    patch.undo()


@pytest.fixture
def en_text() -> str:
    return join(EN_LINES)


@pytest.fixture
def crlf_text() -> str:
    """The French article with Windows line endings and a leading byte-order mark."""
    return join(FR_LINES, "\r\n", bom=True)


@pytest.fixture
def write_file(tmp_path):
    """``write_file(relative_path, text_or_bytes)``: write under ``tmp_path`` exactly (no newline translation)."""

    def write(relative: str, content: str | bytes) -> Path:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return path

    return write


@pytest.fixture(scope="session")
def semeval_dir() -> Path:
    """The real SemEval-2023 data folder; the test is skipped when it is not there."""
    if not SEMEVAL_DIR.is_dir():
        pytest.skip(f"SemEval-2023 data not found at {SEMEVAL_DIR} (shared/data is not part of the repo)")
    return SEMEVAL_DIR


@pytest.fixture(scope="session")
def semeval2025_dir() -> Path:
    """The real SemEval-2025 Task 10 data folder; the test is skipped when it is not there."""
    if not SEMEVAL2025_DIR.is_dir():
        pytest.skip(f"SemEval-2025 data not found at {SEMEVAL2025_DIR} (shared/data is not part of the repo)")
    return SEMEVAL2025_DIR


@pytest.fixture
def html_extractor():
    """HTML extraction (trafilatura) must import: its lxml_html_clean dependency is pinned."""
    import trafilatura

    return trafilatura
