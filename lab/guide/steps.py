"""The lab's steps as data: what to do, the question, the evidence awaited, the setup.

How a step is set up is ``lab.guide.setup``; what proves it was done, ``lab.guide.evidence``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lab.errors import LabError
from lab.net.modes import SINGLE, THREADED

# (French, English)
Bilingual = tuple[str, str]
# ("mode", "single") ("close_after_fin", False) ("clients", 2) ("send", 1, "Bonjour") ("fin", 1)
SetupOp = tuple[Any, ...]


@dataclass(frozen=True)
class Step:
    id: str
    part: int
    title: Bilingual
    todo: Bilingual
    question: Bilingual
    evidence: Bilingual
    setup: tuple[SetupOp, ...]
    mode: str  # the server mode the step is about

    def text(self, what: str, lang: str) -> str:
        """``what`` is title, todo, question or evidence."""
        pair: Bilingual = getattr(self, what)
        return pair[0] if lang == "fr" else pair[1]


STEPS: tuple[Step, ...] = (
    Step(
        id="p1-q1",
        part=1,
        title=("Un serveur, un client", "One server, one client"),
        todo=(
            "Le serveur simple (listing 2) tourne et un client s'y connecte. Trouvez dans le "
            "tableau les lignes du port du TP et lisez leur état, puis envoyez un message "
            "depuis le client.",
            "The single server (listing 2) runs and one client connects to it. Find the lab "
            "port's rows in the table and read their state, then send a message from the "
            "client.",
        ),
        question=(
            "Quelles lignes concernent le port du serveur, et dans quel état est la connexion "
            "entre le client et le serveur ?",
            "Which rows concern the server's port, and what state is the connection between "
            "the client and the server in?",
        ),
        evidence=(
            "Le serveur en LISTEN, la connexion ESTABLISHED vue de ses deux extrémités (serveur "
            "et client), et au moins un message reçu par le serveur.",
            "The server in LISTEN, the connection ESTABLISHED seen from both ends (server and "
            "client), and at least one message received by the server.",
        ),
        setup=(
            ("mode", SINGLE),
            ("close_after_fin", False),
            ("clients", 1),
            ("send", 1, "Bonjour"),
        ),
        mode=SINGLE,
    ),
    Step(
        id="p1-q2",
        part=1,
        title=("Qui possède quoi ; fermer avec « Fin »", "Who owns what; closing with \"Fin\""),
        todo=(
            "Lisez la colonne Processus, l'équivalent de netstat -b, pour chaque ligne. Envoyez "
            "ensuite « Fin » depuis le client et regardez l'état de chaque extrémité.",
            "Read the Process column, the equivalent of netstat -b, for each row. Then send "
            "\"Fin\" from the client and look at the state of each end.",
        ),
        question=(
            "Quel processus détient chaque extrémité ? Après « Fin », dans quel état est le "
            "côté client, et le côté serveur ? Pourquoi le côté client n'a-t-il plus de "
            "processus ?",
            "Which process holds each end? After \"Fin\", what state is the client's end in, "
            "and the server's? Why does the client's end no longer have a process?",
        ),
        evidence=(
            "Pour une même connexion, après un « Fin » reçu : le côté serveur en CLOSE_WAIT, "
            "toujours détenu par le serveur, et le côté client en FIN_WAIT_2.",
            "For one connection, after a \"Fin\" was received: the server's end in CLOSE_WAIT, "
            "still held by the server, and the client's end in FIN_WAIT_2.",
        ),
        setup=(
            ("mode", SINGLE),
            ("close_after_fin", False),
            ("clients", 1),
            ("send", 1, "Bonjour"),
            ("fin", 1),
        ),
        mode=SINGLE,
    ),
    Step(
        id="p1-q3",
        part=1,
        title=("Deux clients, serveur simple", "Two clients, single server"),
        todo=(
            "Toujours avec le serveur simple, connectez deux clients et envoyez un message "
            "depuis chacun.",
            "Still with the single server, connect two clients and send a message from each.",
        ),
        question=(
            "Le serveur reçoit-il les messages des deux clients ? Sinon, où le second client "
            "attend-il, et pourquoi ?",
            "Does the server receive both clients' messages? If not, where does the second "
            "client wait, and why?",
        ),
        evidence=(
            "Deux clients en ESTABLISHED ; côté serveur, l'un est servi et l'autre attend dans "
            "la file d'accept() sans processus ; seuls les messages du client servi sont reçus.",
            "Two clients ESTABLISHED; on the server's side one is served and the other waits "
            "in the accept() queue with no process; only the served client's messages arrive.",
        ),
        setup=(
            ("mode", SINGLE),
            ("close_after_fin", False),
            ("clients", 2),
            ("send", 1, "Bonjour du client 1"),
            ("send", 2, "Bonjour du client 2"),
        ),
        mode=SINGLE,
    ),
    Step(
        id="p2-q1",
        part=2,
        title=("Serveur multi-thread, deux clients", "Threaded server, two clients"),
        todo=(
            "Passez au serveur multi-thread (listing 3), connectez deux clients sans fermer le "
            "premier et envoyez un message depuis chacun. Relevez les lignes du port du TP.",
            "Switch to the threaded server (listing 3), connect two clients without closing "
            "the first, and send a message from each. Note the lab port's rows.",
        ),
        question=(
            "Les deux clients sont-ils servis en même temps ? Que montrent les lignes du port "
            "du TP, par rapport à la question 3 de la partie 1 ?",
            "Are both clients served at the same time? What do the lab port's rows show, "
            "compared with question 3 of part 1?",
        ),
        evidence=(
            "Deux connexions côté serveur en ESTABLISHED, chacune servie par le serveur, et des "
            "messages reçus de deux clients différents.",
            "Two server-side connections ESTABLISHED, each served by the server, and messages "
            "received from two different clients.",
        ),
        setup=(
            ("mode", THREADED),
            ("clients", 2),
            ("send", 1, "Bonjour du client 1"),
            ("send", 2, "Bonjour du client 2"),
        ),
        mode=THREADED,
    ),
    Step(
        id="p2-fin",
        part=2,
        title=("« Fin » avec le serveur multi-thread", "\"Fin\" with the threaded server"),
        todo=(
            "Avec le serveur multi-thread, envoyez « Fin » depuis un client et regardez quelle "
            "extrémité de la connexion reste visible.",
            "With the threaded server, send \"Fin\" from a client and see which end of the "
            "connection remains visible.",
        ),
        question=(
            "Quelle extrémité finit en TIME_WAIT, et pourquoi celle-ci plutôt que l'autre ? "
            "Combien de temps y reste-t-elle ?",
            "Which end finishes in TIME_WAIT, and why that one rather than the other? How long "
            "does it stay there?",
        ),
        evidence=(
            "Le côté client en TIME_WAIT sur le port du TP, après un « Fin » reçu par le "
            "serveur multi-thread.",
            "The client's end in TIME_WAIT on the lab port, after the threaded server received "
            "a \"Fin\".",
        ),
        setup=(
            ("mode", THREADED),
            ("clients", 1),
            ("send", 1, "Bonjour"),
            ("fin", 1),
        ),
        mode=THREADED,
    ),
)

STEP_IDS: tuple[str, ...] = tuple(s.id for s in STEPS)
_BY_ID = {s.id: s for s in STEPS}


def get_step(step_id: str) -> Step:
    try:
        return _BY_ID[step_id]
    except KeyError:
        raise LabError(
            f"Unknown step {step_id!r}: the steps are {', '.join(STEP_IDS)}."
        ) from None


def next_step_id(step_id: str) -> str | None:
    """The step after ``step_id``, or None after the last one."""
    i = STEP_IDS.index(step_id)
    return STEP_IDS[i + 1] if i + 1 < len(STEP_IDS) else None
