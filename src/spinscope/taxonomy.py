"""Every label set spinscope knows, as data: the one source for training, CLI, API and UI.

Names are the official SemEval-2023 Task 3 and SemEval-2025 Task 10 identifiers; definitions are ours.
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
        (
            "Obfuscation-Vagueness-Confusion",
            "Deliberately unclear wording that lets the reader read in what they like.",
        ),
        ("Exaggeration-Minimisation", "Makes something look much bigger or much smaller than it is."),
        ("Repetition", "Repeats the same word or message so that it sticks."),
    )
)

# --- SemEval-2025 Task 10: narratives (two levels) and entity roles ---------------------------

#: Coarse narrative -> (definition, {sub-narrative: definition}). Names are the official ones
#: (``URW`` Russia-Ukraine war, ``CC`` climate change); every coarse narrative also has an
#: ``Other`` sub-narrative for articles that push it in no listed way.
_NARRATIVE_TREE: dict[str, tuple[str, dict[str, str]]] = {
    "URW: Blaming the war on others rather than the invader": (
        "Shifts the blame for the war away from Russia.",
        {
            "Ukraine is the aggressor": "Ukraine, not Russia, started or drives the war.",
            "The West are the aggressors": "The West, NATO or the US provoked or wage the war.",
        },
    ),
    "URW: Discrediting Ukraine": (
        "Paints Ukraine, its leaders or its people as unworthy of support.",
        {
            "Rewriting Ukraine’s history": "Ukraine's history or statehood is fake or illegitimate.",
            "Discrediting Ukrainian nation and society": "Ukrainians as a people are depraved, divided or hostile.",
            "Discrediting Ukrainian military": "Ukraine's army is weak, cruel, incompetent or lying.",
            "Discrediting Ukrainian government and officials and policies": "Kyiv's leaders and policies are corrupt, illegitimate or failing.",
            "Ukraine is a puppet of the West": "Ukraine has no will of its own and obeys Western masters.",
            "Ukraine is a hub for criminal activities": "Ukraine is a centre of smuggling, trafficking or arms resale.",
            "Ukraine is associated with nazism": "Ukraine or its forces are Nazis or honour Nazis.",
            "Situation in Ukraine is hopeless": "Ukraine cannot win or recover; resistance is pointless.",
        },
    ),
    "URW: Russia is the Victim": (
        "Presents Russia as the wronged party.",
        {
            "The West is russophobic": "The West hates Russians and Russian culture.",
            "Russia actions in Ukraine are only self-defence": "Russia only defends itself against threats.",
            "UA is anti-RU extremists": "Ukraine is run by extremists bent on harming Russians.",
        },
    ),
    "URW: Praise of Russia": (
        "Glorifies Russia, its leaders, army or standing.",
        {
            "Praise of Russian military might": "Russia's army and weapons are overwhelming.",
            "Praise of Russian President Vladimir Putin": "Putin is wise, strong or admired.",
            "Russia is a guarantor of peace and prosperity": "Russia brings stability, peace and wealth.",
            "Russia has international support from a number of countries and people": "Many nations and people stand with Russia.",
            "Russian invasion has strong national support": "Russians back the war overwhelmingly.",
        },
    ),
    "URW: Overpraising the West": (
        "Glorifies the West's power or virtue beyond the facts.",
        {
            "NATO will destroy Russia": "NATO can and will crush Russia.",
            "The West belongs in the right side of history": "The West is morally right in everything it does.",
            "The West has the strongest international support": "The whole world is on the West's side.",
        },
    ),
    "URW: Speculating war outcomes": (
        "Predicts how the war will end, usually as a foregone conclusion.",
        {
            "Russian army is collapsing": "Russia's army is on the verge of collapse.",
            "Russian army will lose all the occupied territories": "Russia will be pushed out of every occupied area.",
            "Ukrainian army is collapsing": "Ukraine's army is on the verge of collapse.",
        },
    ),
    "URW: Discrediting the West, Diplomacy": (
        "Paints the West and its diplomacy as weak, selfish or futile.",
        {
            "The EU is divided": "European countries disagree and cannot act together.",
            "The West is weak": "The West is declining, powerless or decadent.",
            "The West is overreacting": "The West's response to the war is excessive.",
            "The West does not care about Ukraine, only about its interests": "Western help is self-interest, not solidarity.",
            "Diplomacy does/will not work": "Negotiations are useless or doomed.",
            "West is tired of Ukraine": "Western publics and leaders are weary of supporting Ukraine.",
        },
    ),
    "URW: Negative Consequences for the West": (
        "The war or the support for Ukraine hurts Western countries.",
        {
            "Sanctions imposed by Western countries will backfire": "Sanctions hurt the West more than Russia.",
            "The conflict will increase the Ukrainian refugee flows to Europe": "Refugees from Ukraine will burden Europe.",
        },
    ),
    "URW: Distrust towards Media": (
        "Tells the reader not to believe the news.",
        {
            "Western media is an instrument of propaganda": "Western media lie on command.",
            "Ukrainian media cannot be trusted": "Ukrainian media spread falsehoods.",
        },
    ),
    "URW: Amplifying war-related fears": (
        "Stirs fear that the war will spread or escalate.",
        {
            "By continuing the war we risk WWIII": "Going on with the war leads to a world war.",
            "Russia will also attack other countries": "Russia will not stop at Ukraine.",
            "There is a real possibility that nuclear weapons will be employed": "Nuclear weapons may well be used.",
            "NATO should/will directly intervene": "NATO troops will or must enter the war.",
        },
    ),
    "URW: Hidden plots by secret schemes of powerful groups": ("Secret powerful groups are behind the war.", {}),
    "CC: Criticism of climate policies": (
        "Climate policies are wrong, useless or harmful.",
        {
            "Climate policies are ineffective": "Climate measures do not change the climate.",
            "Climate policies have negative impact on the economy": "Climate measures ruin jobs, industry or households.",
            "Climate policies are only for profit": "Climate measures exist to make someone rich.",
        },
    ),
    "CC: Criticism of institutions and authorities": (
        "Those in charge of climate action are incompetent or ill-intentioned.",
        {
            "Criticism of the EU": "The EU and its climate rules are at fault.",
            "Criticism of international entities": "The UN, IPCC or other international bodies are at fault.",
            "Criticism of national governments": "A national government's climate action is at fault.",
            "Criticism of political organizations and figures": "Parties or politicians pushing climate action are at fault.",
        },
    ),
    "CC: Climate change is beneficial": (
        "A warmer climate or more CO2 is good.",
        {
            "CO2 is beneficial": "CO2 feeds plants and is good for life.",
            "Temperature increase is beneficial": "A warmer world is a better world.",
        },
    ),
    "CC: Downplaying climate change": (
        "Climate change is small, natural or harmless.",
        {
            "Climate cycles are natural": "Today's changes are part of natural cycles.",
            "Weather suggests the trend is global cooling": "Cold spells show the world is cooling.",
            "Temperature increase does not have significant impact": "Warming does no real harm.",
            "CO2 concentrations are too small to have an impact": "There is too little CO2 to matter.",
            "Human activities do not impact climate change": "People do not change the climate.",
            "Ice is not melting": "Ice sheets and glaciers are stable or growing.",
            "Sea levels are not rising": "Sea levels are stable.",
            "Humans and nature will adapt to the changes": "Adaptation will take care of any change.",
        },
    ),
    "CC: Questioning the measurements and science": (
        "Climate science and its data cannot be trusted.",
        {
            "Methodologies/metrics used are unreliable/faulty": "Climate measurements and models are flawed.",
            "Data shows no temperature increase": "The records show no warming.",
            "Greenhouse effect/carbon dioxide do not drive climate change": "CO2 and the greenhouse effect do not set the climate.",
            "Scientific community is unreliable": "Climate scientists are biased, bought or wrong.",
        },
    ),
    "CC: Criticism of climate movement": (
        "Climate activists and their movement are discredited.",
        {
            "Climate movement is alarmist": "Activists exaggerate the danger.",
            "Climate movement is corrupt": "Activists are in it for money or power.",
            "Ad hominem attacks on key activists": "Well-known activists are attacked personally.",
        },
    ),
    "CC: Controversy about green technologies": (
        "Green technologies are costly, dangerous or unreliable.",
        {
            "Renewable energy is dangerous": "Wind, solar or batteries endanger people or nature.",
            "Renewable energy is unreliable": "Renewables cannot keep the lights on.",
            "Renewable energy is costly": "Renewables are too expensive.",
        },
    ),
    "CC: Hidden plots by secret schemes of powerful groups": (
        "Secret powerful groups are behind climate policy.",
        {
            "Blaming global elites": "Global elites push climate policy for their own ends.",
            "Climate agenda has hidden motives": "Climate action hides another purpose, such as control.",
        },
    ),
    "CC: Amplifying Climate Fears": (
        "Stirs fear of climate change beyond the evidence.",
        {
            "Earth will be uninhabitable soon": "The planet will soon be unliveable.",
            "Amplifying existing fears of global warming": "Plays up already common fears of warming.",
            "Doomsday scenarios for humans": "Humanity faces extinction or collapse.",
            "Whatever we do it is already too late": "Nothing can stop the catastrophe now.",
        },
    ),
    "CC: Green policies are geopolitical instruments": (
        "Climate policy is a tool of power between countries.",
        {
            "Climate-related international relations are abusive/exploitative": "Rich countries use climate deals to exploit others.",
            "Green activities are a form of neo-colonialism": "Green projects abroad are a new colonialism.",
        },
    ),
}

OTHER = "Other"

NARRATIVES: tuple[Label, ...] = tuple(
    Label(name, "war" if name.startswith("URW") else "climate", definition)
    for name, (definition, _) in _NARRATIVE_TREE.items()
) + (Label(OTHER, "other", "Pushes none of the listed narratives."),)

SUBNARRATIVES: tuple[Label, ...] = tuple(
    Label(f"{parent}: {child}", parent, child_definition)
    for parent, (_, children) in _NARRATIVE_TREE.items()
    for child, child_definition in {**children, OTHER: "Pushes this narrative in another way."}.items()
) + (Label(OTHER, OTHER, "Pushes none of the listed narratives."),)


def narrative_parent(subnarrative: str) -> str:
    """The coarse narrative a sub-narrative belongs to (``Other`` for ``Other``)."""
    return _BY_SUBNARRATIVE[subnarrative].group


#: Main roles of an entity and their fine-grained roles (official names).
_ROLE_TREE: dict[str, tuple[str, dict[str, str]]] = {
    "Protagonist": (
        "Cast as the hero or the side to support.",
        {
            "Guardian": "Protects others or defends a cause.",
            "Martyr": "Suffers or dies for a cause.",
            "Peacemaker": "Seeks to end conflict and reconcile.",
            "Rebel": "Stands up against an unjust power.",
            "Underdog": "Fights on against stronger odds.",
            "Virtuous": "Shown as morally good, honest or admirable.",
        },
    ),
    "Antagonist": (
        "Cast as the villain or the side to oppose.",
        {
            "Instigator": "Starts or stirs up the conflict.",
            "Conspirator": "Plots in secret with others.",
            "Tyrant": "Rules by force and oppression.",
            "Foreign Adversary": "An outside power working against us.",
            "Traitor": "Betrays its own side.",
            "Spy": "Gathers secrets for an enemy.",
            "Saboteur": "Undermines others' efforts on purpose.",
            "Corrupt": "Abuses power for gain.",
            "Incompetent": "Fails through lack of skill or judgement.",
            "Terrorist": "Uses violence against civilians to intimidate.",
            "Deceiver": "Lies to or misleads the public.",
            "Bigot": "Shows prejudice against a group.",
        },
    ),
    "Innocent": (
        "Cast as the one who suffers through no fault of its own.",
        {
            "Forgotten": "Suffers while the world ignores it.",
            "Exploited": "Used by others for their gain.",
            "Victim": "Harmed by others' actions.",
            "Scapegoat": "Blamed unfairly for others' faults.",
        },
    ),
}

ROLES: tuple[Label, ...] = tuple(Label(name, "role", d) for name, (d, _) in _ROLE_TREE.items())
FINE_ROLES: tuple[Label, ...] = tuple(
    Label(name, main, d) for main, (_, children) in _ROLE_TREE.items() for name, d in children.items()
)

GENRE_NAMES = tuple(label.name for label in GENRES)
FRAME_NAMES = tuple(label.name for label in FRAMES)
TECHNIQUE_NAMES = tuple(label.name for label in TECHNIQUES)

NARRATIVE_NAMES = tuple(label.name for label in NARRATIVES)
SUBNARRATIVE_NAMES = tuple(label.name for label in SUBNARRATIVES)
ROLE_NAMES = tuple(label.name for label in ROLES)
FINE_ROLE_NAMES = tuple(label.name for label in FINE_ROLES)

_BY_NAME = {label.name: label for label in GENRES + FRAMES + TECHNIQUES + NARRATIVES + ROLES + FINE_ROLES}
_BY_SUBNARRATIVE = {label.name: label for label in SUBNARRATIVES}
TECHNIQUE_GROUPS = tuple(dict.fromkeys(label.group for label in TECHNIQUES))


def label(name: str) -> Label:
    """The :class:`Label` called ``name``; raises ``KeyError`` for unknown names."""
    return _BY_NAME[name]


def as_dict() -> dict[str, list[dict[str, str]]]:
    """The whole taxonomy as JSON-ready data (used by the API and the web page)."""

    def rows(labels):
        return [{"name": x.name, "title": x.title, "group": x.group, "definition": x.definition} for x in labels]

    return {
        "genres": rows(GENRES),
        "frames": rows(FRAMES),
        "techniques": rows(TECHNIQUES),
        "narratives": rows(NARRATIVES),
        "subnarratives": rows(SUBNARRATIVES),
        "roles": rows(ROLES),
        "fine_roles": rows(FINE_ROLES),
    }
