"""Shared fixtures: small invented articles, a SemEval-style folder builder, the real data.

Every article text here is invented for these tests (no third-party text).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
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


#: Invented articles for a tiny SemEval-style folder (ids 1-3) in English and a language with
#: no training data (folder "xx").
ARTICLES = {
    "1": [
        "Traitors in parliament sell out our nation again",
        "",
        "These corrupt cowards have betrayed every honest worker in the country.",
        "If we do not stop them now, our children will pay for their treachery forever.",
    ],
    "2": [
        "Council approves new bus timetable",
        "",
        "The city council approved a new bus timetable on Tuesday, a spokesperson said.",
        "The changes take effect next month and add two early-morning services.",
    ],
    "3": ["Minister opens hospital wing", "", "The health minister opened a new hospital wing on Friday."],
}


def write_semeval2023(folder: Path) -> Path:
    """A tiny SemEval-2023 folder of :data:`ARTICLES` under ``folder``: every subtask's labels and
    spans, in English and (CRLF line endings) in a language without training data, ``xx``."""
    for lang, newline in (("en", "\n"), ("xx", "\r\n")):
        root = folder / lang
        for n in (1, 2, 3):
            articles = root / f"train-articles-subtask-{n}"
            articles.mkdir(parents=True)
            for aid, lines in ARTICLES.items():
                (articles / f"article{aid}.txt").write_bytes(join(lines, newline).encode())
        (root / "train-labels-subtask-1.txt").write_text("1\topinion\n2\treporting\n3\treporting\n")
        (root / "train-labels-subtask-2.txt").write_text("1\tPolitical,Security_and_defense\n2\tQuality_of_life\n3\t\n")
        (root / "train-labels-subtask-3.txt").write_text(
            "1\t1\tName_Calling-Labeling\n1\t3\tName_Calling-Labeling,Loaded_Language\n1\t4\tAppeal_to_Fear-Prejudice\n"
            "2\t1\t\n2\t3\t\n2\t4\t\n3\t1\t\n3\t3\t\n"
        )
        template = [
            f"{aid}\t{line}\t{ARTICLES[aid][line - 1]}"
            for aid in ARTICLES
            for line in (1, 3, 4)
            if line <= len(ARTICLES[aid]) and ARTICLES[aid][line - 1]
        ]
        (root / "train-labels-subtask-3.template").write_text("\n".join(template) + "\n")
        spans = root / "train-labels-subtask-3-spans"
        spans.mkdir()
        text = join(ARTICLES["1"], newline)
        start = text.index("corrupt cowards")
        (spans / "article1-labels-subtask-3.txt").write_text(f"1\tName_Calling-Labeling\t{start}\t{start + 15}\n")
        for aid in ("2", "3"):
            (spans / f"article{aid}-labels-subtask-3.txt").write_text("")
    return folder


WAR = ("URW: Discrediting Ukraine", "URW: Discrediting Ukraine: Ukraine is a puppet of the West")
CLIMATE = ("CC: Criticism of climate movement", "CC: Criticism of climate movement: Climate movement is alarmist")
#: (title, body, narrative, [(name, main role, fine role)]); every text is invented.
DOCUMENTS = [
    (
        "Kyiv obeys its foreign masters again",
        "Commentators claim Kyiv only follows orders from Washington. "
        "They say Washington decides and Kyiv signs. The refugees of Sumy pay the price.",
        WAR,
        [
            ("Washington", "Antagonist", "Conspirator"),
            ("Kyiv", "Antagonist", "Incompetent"),
            ("Sumy", "Innocent", "Victim"),
        ],
    ),
    (
        "Activists frighten the children",
        "The group Green Dawn tells schoolchildren the planet will burn by Friday. "
        "Farmer Jonas Weber says Green Dawn is spreading panic. Weber asks for calm.",
        CLIMATE,
        [
            ("Green Dawn", "Antagonist", "Deceiver"),
            ("Jonas Weber", "Protagonist", "Virtuous"),
            ("Weber", "Protagonist", "Virtuous"),
        ],
    ),
    (
        "A quiet week at the port",
        "Ships arrived on time and the port authority of Lindholm reported record cargo. "
        "Workers in Lindholm praised the new cranes.",
        ("Other", "Other"),
        [("Lindholm", "Protagonist", "Virtuous"), ("Workers", "Innocent", "Forgotten")],
    ),
] * 4  # twelve articles: every fold sees every role and narrative


def write_semeval2025(root: Path) -> Path:
    """A tiny SemEval-2025 folder of :data:`DOCUMENTS` (English) under ``root``."""
    folder = root / "en" / "train-documents"
    folder.mkdir(parents=True)
    narratives, mentions = [], []
    for i, (title, body, (coarse, fine), entities) in enumerate(DOCUMENTS):
        text = f"{title} ({i})\n\n{body}\n"
        name = f"EN_{i:03d}.txt"
        (folder / name).write_text(text, encoding="utf-8")
        narratives.append(f"{name}\t{coarse}\t{fine}")
        at = 0
        for entity, role, fine_role in entities:
            start = text.index(entity, at)
            mentions.append(f"{name}\t{entity}\t{start}\t{start + len(entity) - 1}\t{role}\t{fine_role}")
            at = start + len(entity)
    (root / "en" / "train-labels-subtask-2.txt").write_text("\n".join(narratives) + "\n", encoding="utf-8")
    (root / "en" / "train-labels-subtask-1.txt").write_text("\n".join(mentions) + "\n", encoding="utf-8")
    return root


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


def free_socket() -> socket.socket:
    """A socket bound to a free port of 127.0.0.1."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def serve_app(app, start_timeout: float = 60) -> Iterator[str]:
    """``app`` served by uvicorn on a free port of 127.0.0.1, in a thread of this process; yields
    its base URL (``yield from`` it in a fixture) and stops it afterwards."""
    import uvicorn  # the browser tests' only: the rest of the suite does not start a server

    sock = free_socket()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(10)
    sock.close()


#: Debian's chromium and its driver, which the real-browser tests drive with selenium.
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


def require_chromium():
    """Skip the calling test module, saying what to install, unless Debian's chromium, its driver
    and selenium are there; returns ``selenium.webdriver``."""
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.skip(
            f"Debian's chromium is not installed ({CHROMIUM} or {CHROMEDRIVER} is missing): "
            "run `apt-get install chromium chromium-driver`",
            allow_module_level=True,
        )
    return pytest.importorskip("selenium.webdriver", reason="selenium is not installed: pip install selenium")
