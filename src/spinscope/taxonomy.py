"""Every label set spinscope knows, as data: the one source for training, CLI, API and UI.

Names are the official SemEval-2023 Task 3 identifiers; definitions are ours.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Label:
    name: str
    group: str
    definition: str

    @property
    def title(self) -> str:
        """Human-readable name, e.g. ``Appeal to Fear-Prejudice``."""
        return self.name.replace("_", " ")


def _labels(group: str, *items: tuple[str, str]) -> list[Label]:
    return [Label(name, group, definition) for name, definition in items]


GENRES: tuple[Label, ...] = tuple(
    _labels(
        "genre",
        ("opinion", "Argues for a point of view: editorials, columns, commentary."),
        ("reporting", "Tells what happened, attributing claims to sources."),
        ("satire", "Mocks its subject through irony, parody or absurd exaggeration."),
    )
)

FRAMES: tuple[Label, ...] = tuple(
    _labels(
        "resources",
        ("Economic", "Costs, benefits, money, jobs, markets or other financial effects."),
        ("Capacity_and_resources", "Whether there is enough of something: people, supplies, space, time."),
    )
    + _labels(
        "values",
        ("Morality", "Right and wrong, religious or ethical duty."),
        ("Fairness_and_equality", "Whether people or groups are treated equally and justly."),
        ("Cultural_identity", "Traditions, customs and values of a nation, people or group."),
    )
    + _labels(
        "law and policy",
        ("Legality_Constitutionality_and_jurisprudence", "Laws, rights, courts and what is legally allowed."),
        ("Policy_prescription_and_evaluation", "Which policy to adopt and whether a policy works."),
        ("Crime_and_punishment", "Breaking the law, enforcement, sentencing and retribution."),
        ("External_regulation_and_reputation", "A country's standing abroad, treaties and international relations."),
    )
    + _labels(
        "safety and wellbeing",
        ("Security_and_defense", "Threats to a nation or people, war, military and defence."),
        ("Health_and_safety", "Health care, disease, injury, safety of people."),
        ("Quality_of_life", "How the issue changes people's daily life, wealth or happiness."),
    )
    + _labels(
        "politics",
        ("Public_opinion", "What the public thinks: polls, protests, popular sentiment."),
        ("Political", "Parties, elections, politicians' manoeuvres and political power."),
    )
)

TECHNIQUES: tuple[Label, ...] = tuple(
    _labels(
        "Attack on reputation",
        ("Name_Calling-Labeling", "Gives a person or group a loaded label the reader should love or hate."),
        ("Guilt_by_Association", "Discredits a target by linking it to someone or something despised."),
        ("Doubt", "Questions a target's credibility without giving evidence."),
        ("Appeal_to_Hypocrisy", "Dismisses a target's position by accusing it of hypocrisy."),
        ("Questioning_the_Reputation", "Attacks a target's character or record rather than its argument."),
    )
    + _labels(
        "Justification",
        ("Flag_Waving", "Justifies a claim by appeal to national or group pride and identity."),
        ("Appeal_to_Authority", "Treats a claim as true because an authority or expert said it."),
        ("Appeal_to_Popularity", "Treats a claim as true because many people believe or do it."),
        ("Appeal_to_Values", "Links a claim to values the audience holds dear: freedom, faith, tradition."),
        ("Appeal_to_Fear-Prejudice", "Builds support by stirring fear of an alternative or prejudice against a group."),
    )
    + _labels(
        "Simplification",
        ("Causal_Oversimplification", "Blames a complex outcome on one single cause."),
        ("False_Dilemma-No_Choice", "Presents two options, or one, as if no others existed."),
        ("Consequential_Oversimplification", "Claims one step will surely set off a chain of (usually bad) events."),
    )
    + _labels(
        "Distraction",
        ("Straw_Man", "Refutes a distorted version of an opponent's position."),
        ("Red_Herring", "Turns attention to an irrelevant topic."),
        ("Whataboutism", "Answers criticism by pointing at the critic's own wrongs."),
    )
    + _labels(
        "Call",
        ("Slogans", "A short, catchy phrase meant to stick and rally."),
        ("Conversation_Killer", "A phrase that discourages thinking or further discussion."),
        ("Appeal_to_Time", "Insists that now is the moment to act."),
    )
    + _labels(
        "Manipulative wording",
        ("Loaded_Language", "Words with strong emotional charge used to sway the reader."),
        ("Obfuscation-Vagueness-Confusion", "Deliberately unclear wording that lets the reader read in what they like."),
        ("Exaggeration-Minimisation", "Makes something look much bigger or much smaller than it is."),
        ("Repetition", "Repeats the same word or message so that it sticks."),
    )
)

GENRE_NAMES = tuple(label.name for label in GENRES)
FRAME_NAMES = tuple(label.name for label in FRAMES)
TECHNIQUE_NAMES = tuple(label.name for label in TECHNIQUES)

_BY_NAME = {label.name: label for label in GENRES + FRAMES + TECHNIQUES}
TECHNIQUE_GROUPS = tuple(dict.fromkeys(label.group for label in TECHNIQUES))


def label(name: str) -> Label:
    """The :class:`Label` called ``name``; raises ``KeyError`` for unknown names."""
    return _BY_NAME[name]


def as_dict() -> dict[str, list[dict[str, str]]]:
    """The whole taxonomy as JSON-ready data (used by the API and the web page)."""
    def rows(labels):
        return [{"name": x.name, "title": x.title, "group": x.group, "definition": x.definition} for x in labels]

    return {"genres": rows(GENRES), "frames": rows(FRAMES), "techniques": rows(TECHNIQUES)}
