"""The one catalogue of every user-facing sentence, in French (the lab's language) and English.

``t(key, lang, **values)`` formats one. The default language follows the system locale.

Why a dictionary and not gettext/Babel: two languages, known at build time, shipped inside
the wheel with no compile step (no ``.mo`` files to build or forget), readable side by side
in review, and checked by the tests (same keys, same placeholders in both languages, no
missing key). Plurals are real: an entry made with ``plural`` holds one form and many forms
per language, chosen by the count ``n`` with each language's rule (French: 0 and 1 take
the singular; English: only 1).

French typography is applied to each French text once, when it is first used (not to the
whole catalogue at import, which cost every one-shot command ~2 ms): a no-break space before
``: ; ? !`` and ``»``, and after ``«``, so that a line never starts with one of them.
Numbers are French too: a decimal value given to a French sentence is written with a
decimal comma ("4,62 s"), its thousands apart by a narrow no-break space.
"""

from __future__ import annotations

import os
import re

from tcp_observatory.lab.records import NamedTuple

LANGS = ("fr", "en")
NBSP = "\u00a0"
NNBSP = "\u202f"  # narrow no-break space: French thousands (12 345)
_FRENCH_DIGITS = str.maketrans({".": ",", ",": NNBSP})


class FrenchNumber(float):
    """A decimal value as French writes it: ``f"{FrenchNumber(4.62):.2f}"`` is "4,62"."""

    def __format__(self, spec: str) -> str:
        # An empty spec makes float's __format__ call str(): the plain float's is asked.
        text = float.__format__(self, spec) if spec else float.__repr__(self)
        return text.translate(_FRENCH_DIGITS)

    def __str__(self) -> str:
        return self.__format__("")


class Plural(NamedTuple):
    """A sentence whose words follow a count: (one, many) in French and in English.

    A named tuple, not a dataclass: ``dataclasses`` costs a one-shot command ~15 ms.
    """

    fr: tuple[str, str]
    en: tuple[str, str]

    def pick(self, lang: str, n: object) -> str:
        one, many = self.fr if lang == "fr" else self.en
        count = n if isinstance(n, int) else 2
        single = count in (0, 1) if lang == "fr" else count == 1
        return one if single else many

    def forms(self, lang: str) -> tuple[str, str]:
        return self.fr if lang == "fr" else self.en


def plural(fr: tuple[str, str], en: tuple[str, str]) -> Plural:
    return Plural(fr, en)


Entry = tuple[str, str] | Plural

# key -> (French, English), or plural((French one, many), (English one, many))
MESSAGES: dict[str, Entry] = {
    # --- errors a user can cause ----------------------------------------------------------
    "err.port_in_use": ("Le port {port} est déjà utilisé sur {host} : un autre serveur (peut-être une autre copie du TP) y écoute ; arrêtez-le ou choisissez un autre port avec --port.", "Port {port} is already in use on {host}: another server (maybe another copy of this lab) is listening there; stop it or choose another port with --port."),
    "err.permission": ("Permission refusée pour écouter sur {where} : les ports sous 1024 demandent les droits administrateur ; choisissez un port au-dessus de 1024 avec --port.", "Permission denied to listen on {where}: ports below 1024 need administrator rights; choose a port above 1024 with --port."),
    "err.no_address": ("Impossible d'écouter sur {where} : cette machine n'a pas cette adresse ; utilisez 127.0.0.1 ou l'une de ses adresses avec --host.", "Cannot listen on {where}: this machine has no such address; use 127.0.0.1 or one of its own addresses with --host."),
    "err.listen": ("Impossible d'écouter sur {where} : {reason}.", "Cannot listen on {where}: {reason}."),
    "err.unknown_address": ("Impossible d'écouter sur {host} : adresse inconnue ({reason}).", "Cannot listen on {host}: unknown address ({reason})."),
    "err.refused": ("Connexion refusée par {host}:{port} : personne n'y écoute ; lancez d'abord le serveur (python -m lab.server --port {port}).", "Connection refused by {host}:{port}: nobody is listening there; start the server first (python -m lab.server --port {port})."),
    "err.refused_full": ("Connexion refusée par {host}:{port} : personne n'y écoute, ou la file d'attente d'accept() du serveur est pleine (Windows refuse alors la connexion au lieu de la laisser en SYN_SENT).", "Connection refused by {host}:{port}: nobody is listening there, or the server's accept() queue is full (Windows then refuses the connection instead of leaving it in SYN_SENT)."),
    "err.connect_timeout": ("La connexion à {host}:{port} a expiré : la file d'attente du serveur est-elle pleine ?", "Connecting to {host}:{port} timed out: is the server's queue full?"),
    "err.connect": ("Impossible de se connecter à {host}:{port} : {reason}.", "Cannot connect to {host}:{port}: {reason}."),
    "err.unknown_host": ("Hôte inconnu {host} ({reason}).", "Unknown host {host} ({reason})."),
    "err.connect_slow": ("La connexion à {host}:{port} prend trop de temps : la file d'attente d'accept() du serveur est sans doute pleine (SYN_SENT).", "Connecting to {host}:{port} is taking too long: the server's accept queue is probably full (SYN_SENT)."),
    "err.no_terminal": ("La fenêtre a besoin d'un terminal (Windows Terminal, Terminal, Konsole…) ; pour un script, utilisez netstat, watch ou demo.", "The window needs a terminal (Windows Terminal, Terminal, Konsole…); for a script, use netstat, watch or demo."),
    "err.unknown_step": ("Étape inconnue {step} : les étapes sont {steps}.", "Unknown step {step}: the steps are {steps}."),
    "arg.error": ("{prog} : {message} (voir --help).", "{prog}: {message} (see --help)."),
    "arg.port": ("{value} n'est pas un numéro de port (1-65535, ou 0 pour un port libre quelconque)", "{value} is not a port number (1-65535, or 0 for any free port)"),
    "arg.whole": ("{value} n'est pas un nombre entier", "{value} is not a whole number"),
    "arg.at_least_1": ("{value} doit valoir au moins 1", "{value} must be at least 1"),
    "arg.at_least_0": ("{value} doit valoir 0 ou plus", "{value} must be 0 or more"),
    "arg.seconds": ("{value} n'est pas un nombre de secondes", "{value} is not a number of seconds"),
    "arg.interval_range": ("{value} s est hors limites (de 0,01 à 60 s)", "{value} s is out of range (0.01 to 60 s)"),
    "arg.timeout_range": ("{value} s est hors limites (plus de 0, au plus 3600)", "{value} s is out of range (more than 0, at most 3600)"),
    "err.source_failed": ("La source de connexions a échoué : {reason}", "The connection source failed: {reason}"),
    "err.other_student": ("Le dossier {folder} contient déjà les captures de {owner} : pour {student}, choisissez un autre dossier avec --screenshots.", "The folder {folder} already holds {owner}'s screenshots: for {student}, choose another folder with --screenshots."),
    "err.mode": ("Mode de serveur inconnu {mode} : choisissez single ou threaded.", "Unknown server mode {mode}: choose single or threaded."),
    "err.no_source": ("La source de connexions {source} n'est pas disponible ici ({reason}) ; utilisez --source psutil.", "The {source} connection source is not available here ({reason}); use --source psutil."),
    # --- the lab's steps: what to do, the question, the evidence awaited ---------------------
    "step.p1-q1.title": (
        'Un serveur, un client',
        'One server, one client',
    ),
    "step.p1-q1.todo": (
        "Le serveur simple (listing 2) tourne et un client s'y connecte. Trouvez dans le tableau les lignes du port du TP et lisez leur état, puis envoyez un message depuis le client.",
        "The single server (listing 2) runs and one client connects to it. Find the lab port's rows in the table and read their state, then send a message from the client.",
    ),
    "step.p1-q1.question": (
        'Quelles lignes concernent le port du serveur, et dans quel état est la connexion entre le client et le serveur ?',
        "Which rows concern the server's port, and what state is the connection between the client and the server in?",
    ),
    "step.p1-q1.evidence": (
        "Le serveur en LISTEN, la connexion ESTABLISHED vue de ses deux extrémités (serveur et client), et au moins un message reçu par le serveur : le noyau montre ses octets arrivés à la socket du serveur (Linux), ou le serveur le signale (le serveur intégré, ou le vôtre en l'affichant sur une ligne, seul ou à la fin).",
        "The server in LISTEN, the connection ESTABLISHED seen from both ends (server and client), and at least one message received by the server: the kernel shows its bytes reaching the server's socket (Linux), or the server reports it (the built-in server, or yours printing it on a line, alone or at its end).",
    ),
    "step.p1-q2.title": (
        'Qui possède quoi ; fermer avec « Fin »',
        'Who owns what; closing with "Fin"',
    ),
    "step.p1-q2.todo": (
        "Lisez la colonne Processus, l'équivalent de netstat -b, pour chaque ligne. Envoyez ensuite « Fin » depuis le client et regardez l'état de chaque extrémité.",
        'Read the Process column, the equivalent of netstat -b, for each row. Then send "Fin" from the client and look at the state of each end.',
    ),
    "step.p1-q2.question": (
        "Quel processus détient chaque extrémité ? Après « Fin », dans quel état est le côté client, et le côté serveur ? Pourquoi le côté client n'a-t-il plus de processus ?",
        'Which process holds each end? After "Fin", what state is the client\'s end in, and the server\'s? Why does the client\'s end no longer have a process?',
    ),
    "step.p1-q2.evidence": (
        "Pour une même connexion, après un « Fin » reçu : le côté serveur en CLOSE_WAIT, toujours détenu par le serveur, et le côté client en FIN_WAIT_2. « Fin » compte reçu quand le serveur le signale, ou quand le noyau montre qu'il est arrivé à la socket du serveur (ses octets comptés, ou le FIN du client acquitté après lui).",
        'For one connection, after a "Fin" was received: the server\'s end in CLOSE_WAIT, still held by the server, and the client\'s end in FIN_WAIT_2. "Fin" counts as received when the server reports it, or when the kernel shows it reached the server\'s socket (its bytes counted, or the client\'s FIN acknowledged after it).',
    ),
    "step.p1-q3.title": (
        'Deux clients, serveur simple',
        'Two clients, single server',
    ),
    "step.p1-q3.todo": (
        'Toujours avec le serveur simple, connectez deux clients et envoyez un message depuis chacun.',
        'Still with the single server, connect two clients and send a message from each.',
    ),
    "step.p1-q3.question": (
        'Le serveur reçoit-il les messages des deux clients ? Sinon, où le second client attend-il, et pourquoi ?',
        "Does the server receive both clients' messages? If not, where does the second client wait, and why?",
    ),
    "step.p1-q3.evidence": (
        "Deux clients en ESTABLISHED ; côté serveur, l'un est servi et l'autre attend dans la file d'accept() sans processus ; seuls les messages du client servi sont reçus.",
        "Two clients ESTABLISHED; on the server's side one is served and the other waits in the accept() queue with no process; only the served client's messages arrive.",
    ),
    "step.p1-q3.todo.windows": (
        "Toujours avec le serveur simple, connectez deux clients et envoyez un message depuis chacun. Sous Windows, si la file d'accept() est déjà pleine, la connexion du second client est refusée (« connexion refusée ») au lieu d'attendre : c'est la réponse de Windows à une file pleine.",
        "Still with the single server, connect two clients and send a message from each. On Windows, if the accept() queue is already full, the second client's connection is refused (\"connection refused\") instead of waiting: that is Windows' answer to a full queue.",
    ),
    "step.p1-q3.evidence.windows": (
        "Le client servi en ESTABLISHED et ses messages reçus ; le second client attend dans la file d'accept() sans processus (et rien de lui n'est reçu), ou bien, la file étant pleine, Windows a refusé sa connexion.",
        "The served client ESTABLISHED and its messages received; the second client waits in the accept() queue with no process (and nothing of it arrives), or else, the queue being full, Windows refused its connection.",
    ),
    "step.p2-q1.title": (
        'Serveur multi-thread, deux clients',
        'Threaded server, two clients',
    ),
    "step.p2-q1.todo": (
        'Passez au serveur multi-thread (listing 3), connectez deux clients sans fermer le premier et envoyez un message depuis chacun. Relevez les lignes du port du TP.',
        "Switch to the threaded server (listing 3), connect two clients without closing the first, and send a message from each. Note the lab port's rows.",
    ),
    "step.p2-q1.question": (
        'Les deux clients sont-ils servis en même temps ? Que montrent les lignes du port du TP, par rapport à la question 3 de la partie 1 ?',
        "Are both clients served at the same time? What do the lab port's rows show, compared with question 3 of part 1?",
    ),
    "step.p2-q1.evidence": (
        "Deux connexions côté serveur en ESTABLISHED en même temps, chacune servie (détenue par le processus du serveur, aucune dans la file d'accept()) : c'est ainsi qu'un serveur multi-thread se reconnaît, quel qu'en soit l'auteur ; et des messages reçus de deux clients différents (signalés par le serveur, ou leurs octets comptés par le noyau sous Linux).",
        "Two server-side connections ESTABLISHED at the same time, each served (held by the server's process, none waiting in the accept() queue): that is how a threaded server is recognised, whoever wrote it; and messages received from two different clients (reported by the server, or their bytes counted by the kernel on Linux).",
    ),
    "step.p2-fin.title": (
        '« Fin » avec le serveur multi-thread',
        '"Fin" with the threaded server',
    ),
    "step.p2-fin.todo": (
        'Avec le serveur multi-thread, envoyez « Fin » depuis un client et regardez quelle extrémité de la connexion reste visible.',
        'With the threaded server, send "Fin" from a client and see which end of the connection remains visible.',
    ),
    "step.p2-fin.question": (
        "Quelle extrémité finit en TIME_WAIT, et pourquoi celle-ci plutôt que l'autre ? Combien de temps y reste-t-elle ?",
        'Which end finishes in TIME_WAIT, and why that one rather than the other? How long does it stay there?',
    ),
    "step.p2-fin.evidence": (
        "Le côté client en TIME_WAIT sur le port du TP, après un « Fin » reçu par le serveur multi-thread (signalé par le serveur, ou montré par le noyau : le FIN du client acquitté après lui).",
        'The client\'s end in TIME_WAIT on the lab port, after the threaded server received a "Fin" (reported by the server, or shown by the kernel: the client\'s FIN acknowledged after it).',
    ),
    # --- server --------------------------------------------------------------------------
    "srv.listening": (
        "Lancement serveur : {addr}, mode {mode}, file d'attente {backlog}",
        "Server started: {addr}, {mode} mode, backlog {backlog}",
    ),
    "srv.accepted": ("Connexion de la machine {peer}", "Connection from {peer}"),
    "srv.message": ("{peer} a dit : {text}", "{peer} said: {text}"),
    "srv.fin": (
        "Déconnexion de {peer} (« Fin » reçu)",
        "Disconnection of {peer} (\"Fin\" received)",
    ),
    "srv.fin.held": (
        "Déconnexion de {peer} : socket laissé ouvert, côté serveur en CLOSE_WAIT",
        "Disconnection of {peer}: socket left open, server side in CLOSE_WAIT",
    ),
    "srv.eof": (
        "{peer} est parti sans « Fin » (fin de flux)",
        "{peer} left without \"Fin\" (end of stream)",
    ),
    "srv.reset": ("{peer} a réinitialisé la connexion (RST)", "{peer} reset the connection (RST)"),
    "srv.released": (
        "Socket de {peer} libéré par le accept() suivant : le serveur le ferme",
        "{peer}'s socket released by the next accept(): the server closes it",
    ),
    "srv.closed": ("Connexion avec {peer} fermée par le serveur", "Server closed {peer}"),
    "srv.refused": plural(
        ("Limite de {limit} clients atteinte : {peer} refusé (--max-clients) ; {n} client connecté, le plus silencieux depuis {silent} s", "Limite de {limit} clients atteinte : {peer} refusé (--max-clients) ; {n} clients connectés, le plus silencieux depuis {silent} s"),
        ("Limit of {limit} clients reached: {peer} refused (--max-clients); {n} client connected, the most silent one for {silent} s", "Limit of {limit} clients reached: {peer} refused (--max-clients); {n} clients connected, the most silent one for {silent} s"),
    ),
    "srv.overflow": plural(
        ("File d'attente d'accept() pleine (accept queue full, {queue}/{backlog}) : le noyau a rejeté la poignée de main de {n} client : {who} ; ce client réessaiera", "File d'attente d'accept() pleine (accept queue full, {queue}/{backlog}) : le noyau a rejeté les poignées de main de {n} clients : {who} ; ces clients réessaieront"),
        ("accept queue full ({queue}/{backlog}): the kernel dropped the handshake of {n} client: {who}; that client will retry", "accept queue full ({queue}/{backlog}): the kernel dropped the handshakes of {n} clients: {who}; those clients will retry"),
    ),
    "srv.stuck.client": ("client {n} ({addr}, {state})", "client {n} ({addr}, {state})"),
    "srv.stuck.peer": ("{addr} ({state})", "{addr} ({state})"),
    "srv.stuck.recv": ("SYN_RECEIVED côté serveur", "SYN_RECEIVED on the server's side"),
    "srv.overflow_unknown": ("Ici, la liste des connexions ne dit ni la file d'accept() d'un serveur ni les réémissions d'une poignée de main : on ne peut pas dire si la file pleine du serveur du TP rejette des poignées de main.", "Here the connection list tells neither a server's accept queue nor a handshake's retransmissions: whether the lab server's full queue drops handshakes cannot be told."),
    "srv.idle": ("{peer} silencieux depuis {s} s : connexion fermée (--idle-timeout)", "{peer} silent for {s} s: connection closed (--idle-timeout)"),
    "srv.aborted": ("La connexion avec {peer} a été interrompue par le système (abandon)", "The connection with {peer} was aborted by the system"),
    "srv.queue": ("dans la file d'accept() : {n}/{backlog}", "accept queue: {n}/{backlog}"),
    "srv.stopped": ("Serveur arrêté", "Server stopped"),
    "warn.exposed": (
        "Le serveur écoute sur {addr} : d'autres machines du réseau peuvent s'y connecter.",
        "The server listens on {addr}: other machines on the network can connect to it.",
    ),
    "mode.single": ("simple", "single"),
    "mode.threaded": ("multi-thread", "threaded"),
    # --- client --------------------------------------------------------------------------
    "cli.title": ("Console Client", "Client console"),
    "cli.connecting": ("Connexion à {addr}…", "Connecting to {addr}…"),
    "cli.connected": (
        "Connecté : {local} -> {addr}. Tapez un message puis Entrée ; « Fin » termine.",
        "Connected: {local} -> {addr}. Type a message and press Enter; \"Fin\" ends.",
    ),
    "cli.server_closed": (
        "Le serveur a fermé sa moitié de la connexion (ce côté passe en CLOSE_WAIT)",
        "The server closed its half of the connection (this side is now CLOSE_WAIT)",
    ),
    "cli.received": ("Reçu du serveur : {text}", "Received from server: {text}"),
    "cli.bye": ("Fin du programme", "End of program"),
    "cli.error": ("Erreur : {text}", "Error: {text}"),
    "cli.reset": ("Le serveur a réinitialisé la connexion (RST)", "The server reset the connection (RST)"),
    "cli.aborted": ("La connexion a été interrompue par le système (abandon)", "The connection was aborted by the system"),
    # --- netstat / watch -----------------------------------------------------------------
    "ns.title": ("Connexions actives", "Active connections"),
    "ns.title.win": ("Connexions actives", "Active Connections"),
    "ns.local.win": ("Adresse locale", "Local Address"),
    "ns.remote.win": ("Adresse distante", "Foreign Address"),
    "ns.proto": ("Proto", "Proto"),
    "ns.local": ("Adresse locale", "Local address"),
    "ns.remote": ("Adresse distante", "Foreign address"),
    "ns.state": ("État", "State"),
    "ns.none": ("(aucune connexion sur le port {port})", "(no connection on port {port})"),
    "ns.own_only": (
        "Le système refuse la liste complète des connexions (droits administrateur requis) : "
        "seules celles de ce programme sont visibles ; FIN_WAIT_2 et TIME_WAIT orphelins ne le "
        "sont pas.",
        "The OS refuses the full connection list (administrator rights needed): only this "
        "program's connections are shown; orphaned FIN_WAIT_2 and TIME_WAIT are not.",
    ),
    "ns.watching": (
        "Observation du port {port} (source {source}, toutes les {interval} s). Ctrl+C pour "
        "arrêter.",
        "Watching port {port} (source {source}, every {interval} s). Ctrl+C to stop.",
    ),
    "ns.inferred": ("déduit", "inferred"),
    # --- why a state lingers (lab/observe/explain.py): one sentence, naming who holds it ----
    "why.program_pid": ("le processus {pid}", "process {pid}"),
    "why.the_server": ("le serveur {program}", "the server {program}"),
    "why.a_server": ("le serveur", "the server"),
    "why.its_program": ("son programme", "its program"),
    "why.left": (" (encore {s:.0f}\u00a0s)", " ({s:.0f} s left)"),
    "why.fin_timeout": (" (au plus tcp_fin_timeout)", " (up to tcp_fin_timeout)"),
    "why.close_wait.server": ("{who} : CLOSE_WAIT depuis {s:.0f}\u00a0s, car {program} a reçu le FIN sans appeler close() (le serveur du listing 2 ne l'appelle jamais).", "{who}: CLOSE_WAIT for {s:.0f} s because {program} received FIN and has not called close() (listing 2's server never calls it)."),
    "why.close_wait": ("{who} : CLOSE_WAIT depuis {s:.0f}\u00a0s, car {program} a reçu le FIN de l'autre côté sans appeler close().", "{who}: CLOSE_WAIT for {s:.0f} s because {program} received the other end's FIN and has not called close()."),
    "why.fin_wait_2": ("{who} : FIN_WAIT_2, car son programme l'a fermé et aucun ne le détient ; le noyau attend le FIN de l'autre côté{limit}.", "{who}: FIN_WAIT_2 because its program closed it and no program holds it; the kernel waits for the other end's FIN{limit}."),
    "why.time_wait": ("{who} a fermé le premier : sans programme, ce côté reste en TIME_WAIT 2 MSL{limit} pour renvoyer un ACK perdu et écarter les vieux segments.", "{who} closed first: held by no program, this end stays in TIME_WAIT for 2 MSL{limit} to resend a lost ACK and let old segments die."),
    "why.queued": ("{who} : le noyau a fait la poignée de main (ESTABLISHED) mais {server} n'a pas appelé accept() ; ses octets restent dans Recv-Q.", "{who}: the kernel completed the handshake (ESTABLISHED) but {server} has not called accept(); its bytes wait in Recv-Q."),
    "why.syn_sent.full": plural(("{who} : SYN_SENT, {program} attend dans connect() ; son SYN renvoyé {n} fois, car la file d'accept() du serveur est pleine ({queue}/{backlog}).", "{who} : SYN_SENT, {program} attend dans connect() ; son SYN renvoyé {n} fois, car la file d'accept() du serveur est pleine ({queue}/{backlog})."), ("{who}: SYN_SENT, {program} waits in connect(); its SYN sent again {n} time because the server's accept() queue is full ({queue}/{backlog}).", "{who}: SYN_SENT, {program} waits in connect(); its SYN sent again {n} times because the server's accept() queue is full ({queue}/{backlog}).")),
    "why.syn_sent": plural(("{who} : SYN_SENT, {program} attend dans connect() ; son SYN renvoyé {n} fois sans réponse : la file d'accept() du serveur est sans doute pleine.", "{who} : SYN_SENT, {program} attend dans connect() ; son SYN renvoyé {n} fois sans réponse : la file d'accept() du serveur est sans doute pleine."), ("{who}: SYN_SENT, {program} waits in connect(); its SYN sent again {n} time with no answer: the server's accept() queue is probably full.", "{who}: SYN_SENT, {program} waits in connect(); its SYN sent again {n} times with no answer: the server's accept() queue is probably full.")),
    "banner.cause": ("{cause} :", "{cause}:"),
    "unit.seconds": ("{s:.2f}\u00a0s", "{s:.2f} s"),
    "unit.seconds3": ("{s:.3f}\u00a0s", "{s:.3f} s"),
    "ns.orphaned": ("orphelin", "orphaned"),
    "ns.unknown_owner": ("propriétaire illisible", "owner not readable"),
    # --- the app -------------------------------------------------------------------------
    "app.title": ("TCP Observatory", "TCP Observatory"),
    "app.server_at": ("Serveur {addr} · {mode}", "Server {addr} · {mode}"),
    "app.no_server": ("Pas de serveur (observation du port {port})", "No server (watching port {port})"),
    "app.server_stopped": ("Serveur arrêté (port {port})", "Server stopped (port {port})"),
    "app.paused": ("⏸ PAUSE", "⏸ PAUSED"),
    "app.filter_port": ("port {port}", "port {port}"),
    "app.filter_all": ("toutes les connexions", "all connections"),
    "app.paced": ("relevé toutes les {interval:.2f} s : un relevé prend {cost:.0f} ms", "polled every {interval:.2f} s: one poll takes {cost:.0f} ms"),
    "ns.paced": ("Un relevé prend {cost:.0f} ms : relevé toutes les {interval:.2f} s au lieu de {asked:.2f} s.", "One poll takes {cost:.0f} ms: polling every {interval:.2f} s instead of {asked:.2f} s."),
    "ns.unpaced": ("Les relevés sont de nouveau rapides : relevé toutes les {interval:.2f} s.", "Polls are quick again: polling every {interval:.2f} s."),
    "key.add": ("+Client", "+Client"),
    "key.remove": ("−Client", "−Client"),
    "key.mode": ("Mode", "Mode"),
    "key.close_after_fin": ("close()", "close()"),
    "key.filter": ("Filtre", "Filter"),
    "key.pause": ("Pause", "Pause"),
    "key.server": ("Serveur", "Server"),
    "key.quit": ("Quitter", "Quit"),
    "key.theme": ("Thème", "Theme"),
    "key.present": ("Projeter", "Present"),
    "key.view": ("Vue", "View"),
    "key.steps": ("Étapes", "Steps"),
    "key.answer": ("Réponse", "Answer"),
    "key.shot": ("Capture", "Shot"),
    "key.setup": ("Scène", "Scene"),
    "key.next_step": ("Suiv.", "Next"),
    "key.prev_step": ("Préc.", "Prev"),
    "steps.title": ("Le TP pas à pas (F1)", "The lab step by step (F1)"),
    "steps.todo": ("À faire :", "To do:"),
    "steps.question": ("Question :", "Question:"),
    "steps.evidence": ("Preuve attendue :", "Evidence awaited:"),
    "steps.met": ("Preuve observée : capture prise.", "Evidence observed: screenshot taken."),
    "steps.answer": ("Votre réponse (F12 ; enregistrée pendant la frappe) :", "Your answer (F12; saved as you type):"),
    "steps.typing": ("Clavier → client {n} : ", "Keys → client {n}: "),
    "steps.answer_placeholder": ("réponse à la question", "answer to the question"),
    "steps.keys": ("Ctrl+R prépare l'étape · Ctrl+S capture · Ctrl+N / Ctrl+B étape suivante / précédente", "Ctrl+R sets the step up · Ctrl+S screenshot · Ctrl+N / Ctrl+B next / previous step"),
    "steps.ready": ("Étape {step} prête. À vous : {todo}.", "Step {step} is ready. Your turn: {todo}."),
    "steps.setup_note": ("Étape {step} préparée par l'application : {what}", "Step {step} set up by the app: {what}"),
    "pic.story": ("Ce qui s'est passé pendant l'étape :", "What happened during the step:"),
    "pic.inferred": ("déduit", "inferred"),
    "pic.change": ("{role} : {before} → {after}", "{role}: {before} → {after}"),
    "pic.received": ("serveur : reçu de {peer} « {text} »", "server: received from {peer} \"{text}\""),
    "list.sep": (" ; ", "; "),
    "steps.by_app": ("Préparé par l'application :", "Set up by the app:"),
    "steps.your_turn": ("À vous :", "Your turn:"),
    "steps.shoot_hint": ("Preuve observée : Ctrl+S enregistre la capture (votre nom sera demandé).", "Evidence observed: Ctrl+S saves the screenshot (your name will be asked)."),
    "op.mode": ("serveur {mode} neuf", "a fresh {mode} server"),
    "op.close_after_fin": ("close() après « Fin » : {value}", "close() after \"Fin\": {value}"),
    "op.clients": plural(("{n} client connecté, numéroté à partir de 1", "{n} clients connectés, numérotés à partir de 1"), ("{n} client connected, numbered from 1", "{n} clients connected, numbered from 1")),
    "op.send": ("envoyez « {text} » depuis le client {n}", "send \"{text}\" from client {n}"),
    "op.fin": ("envoyez « Fin » depuis le client {n}", "send \"Fin\" from client {n}"),
    "act.by_app": ("(par l'application)", "(by the app)"),
    "steps.met_note": ("Étape {step} : preuve observée, capture {file}", "Step {step}: evidence observed, screenshot {file}"),
    "steps.shot_note": ("Étape {step} : capture {file}, preuve pas encore observée", "Step {step}: screenshot {file}, evidence not observed yet"),
    "steps.answer_saved": ("Réponse enregistrée ({step}).", "Answer saved ({step})."),
    "shot.saved": ("Capture enregistrée : {file}", "Screenshot saved: {file}"),
    "demo.not_empty": ("Le dossier {folder} n'est pas vide : la démo écrit dans un dossier vide ou nouveau (elle n'écrase jamais une remise).", "Folder {folder} is not empty: the demo writes into an empty or new folder (it never overwrites a submission)."),
    "demo.timeout": ("Démo arrêtée : la preuve de l'étape {step} n'est pas apparue ({missing}).", "Demo stopped: the evidence of step {step} did not show ({missing})."),
    "demo.done": ("Démo terminée : {n} captures dans {folder}, avec report.html et manifest.json.", "Demo finished: {n} screenshots in {folder}, with report.html and manifest.json."),
    "name.title": ("Votre nom", "Your name"),
    "name.why": ("Il est inscrit sur chaque capture d'écran, avec la machine, l'heure et l'étape.", "It is stamped on every screenshot, with the host, the time and the step."),
    "name.placeholder": ("Prénom Nom", "First Last"),
    "pane.diagram": ("Diagramme d'états TCP (RFC 793) — port {port}", "TCP state diagram (RFC 793) — port {port}"),
    "pane.ladder": ("Échelle de la connexion du client {n} (le client sélectionné)", "Ladder of client {n}'s connection (the selected client)"),
    "pane.ladder_none": ("Échelle : aucun client", "Ladder: no client"),
    "key.step_back": ("Moment −", "Moment −"),
    "key.step_forward": ("Moment +", "Moment +"),
    "app.past_moment": ("moment passé {i}/{n} ({time})", "past moment {i}/{n} ({time})"),
    "pane.connections": ("Connexions TCP (noyau) — {filter}", "TCP connections (kernel) — {filter}"),
    "pane.timeline": ("Chronologie : actions et changements d'état", "Timeline: actions and state changes"),
    "pane.server": ("Serveur", "Server"),
    "pane.clients": ("Clients", "Clients"),
    "col.proto": ("Proto", "Proto"),
    "col.local": ("Adresse locale", "Local address"),
    "col.remote": ("Adresse distante", "Foreign address"),
    "col.state": ("État", "State"),
    "col.queues": ("Recv/Send-Q", "Recv/Send-Q"),
    "col.timer": ("Minuterie", "Timer"),
    "col.process": ("Processus", "Process"),
    "col.role": ("Rôle", "Role"),
    "col.age": ("Depuis", "For"),
    # 80 columns: two columns in one, one above the other (a row takes two lines).
    "col.addresses": ("Locale → distante", "Local → foreign"),
    "col.who": ("Rôle / processus", "Role / process"),
    "proc.orphaned": ("orphelin", "orphaned"),
    "proc.unknown": ("inconnu", "unknown"),
    "server.info": (
        "{mode} · file d'attente {backlog} · close() après Fin : {caf}",
        "{mode} · backlog {backlog} · close() after Fin: {caf}",
    ),
    "server.info.threaded": (
        "{mode} · file d'attente {backlog} · un thread par client",
        "{mode} · backlog {backlog} · one thread per client",
    ),
    "server.off": ("arrêté — F8 le démarre", "stopped — F8 starts it"),
    "server.none": (
        "aucun serveur lancé ici (--no-server) : les programmes du port {port} sont observés",
        "no server started here (--no-server): programs on port {port} are observed",
    ),
    "yes": ("oui", "yes"),
    "no": ("non", "no"),
    "client.title": ("Client {n}", "Client {n}"),
    "client.placeholder": ("message, Entrée pour envoyer ; « Fin » ferme", "message, Enter sends; \"Fin\" closes"),
    "client.closed_placeholder": ("connexion fermée — F3 retire ce client", "connection closed — F3 removes this client"),
    "client.connecting": ("connexion en cours…", "connecting…"),
    "client.connected": ("connecté depuis {local}", "connected from {local}"),
    "client.sent": ("envoyé : {text}", "sent: {text}"),
    "client.fin": ("« Fin » envoyé, socket fermé", "\"Fin\" sent, socket closed"),
    "client.closed": ("socket fermé", "socket closed"),
    "client.server_closed": ("le serveur a fermé sa moitié (CLOSE_WAIT ici)", "the server closed its half (CLOSE_WAIT here)"),
    "client.received": ("reçu : {text}", "received: {text}"),
    "client.failed": ("échec : {text}", "failed: {text}"),
    "client.error": ("erreur : {text}", "error: {text}"),
    "client.waiting": ("en attente d'un serveur sur le port {port}…", "waiting for a server on port {port}…"),
    "clients.empty": ("Aucun client. F2 en ajoute un.", "No client. F2 adds one."),
    "act.client-add": ("client {n} : connect()", "client {n}: connect()"),
    "act.client-remove": ("client {n} retiré : close() sans « Fin »", "client {n} removed: close() without \"Fin\""),
    "act.send": ("client {n} envoie « {text} »", "client {n} sends \"{text}\""),
    "act.fin": ("client {n} envoie « Fin » puis close()", "client {n} sends \"Fin\" then close()"),
    "act.server-start": ("serveur démarré ({text})", "server started ({text})"),
    "act.server-stop": ("serveur arrêté : il ferme toutes ses connexions", "server stopped: it closes all its connections"),
    "act.mode": ("mode du serveur : {text}", "server mode: {text}"),
    "act.close-after-fin": ("close() après « Fin » : {text}", "close() after \"Fin\": {text}"),
    "act.accepted": ("serveur : accept() de {peer}", "server: accept() of {peer}"),
    "act.released": ("serveur : accept() suivant, l'ancien socket de {peer} est fermé", "server: next accept(), {peer}'s old socket is closed"),
    "act.closed": ("serveur : close() de {peer}", "server: close() of {peer}"),
    "act.received": ("serveur reçoit de {peer} : {text}", "server receives from {peer}: {text}"),
    "act.fin-received": ("serveur : « Fin » reçu de {peer}", "server: \"Fin\" received from {peer}"),
    "act.eof": ("serveur : {peer} parti sans « Fin »", "server: {peer} left without \"Fin\""),
    "act.reset": ("serveur : RST de {peer}", "server: RST from {peer}"),
    "act.refused": ("serveur : limite atteinte, {peer} refusé", "server: limit reached, {peer} refused"),
    "tl.inferred": ("déduit, non observé", "inferred, not observed"),
    "tl.already_open": plural(("{n} autre connexion était déjà ouverte au démarrage (hors du port du TP).", "{n} autres connexions étaient déjà ouvertes au démarrage (hors du port du TP)."), ("{n} other connection was already open at start (off the lab port).", "{n} other connections were already open at start (off the lab port).")),
    "tl.paused": plural(("Vue figée : {n} événement en attente. F7 reprend.", "Vue figée : {n} événements en attente. F7 reprend."), ("View frozen: {n} event waiting. F7 resumes.", "View frozen: {n} events waiting. F7 resumes.")),
    "tl.moment": ("{moment} ; la suite est grisée (F7 : retour au présent)", "{moment}; what came after is greyed (F7: back to now)"),
    "tl.resumed": plural(("Reprise : {n} événement rattrapé.", "Reprise : {n} événements rattrapés."), ("Resumed: {n} event caught up.", "Resumed: {n} events caught up.")),
    "err.source": ("La source des connexions a échoué : {text}", "The connection source failed: {text}"),
    "err.remove_none": ("Placez le curseur dans un client pour le retirer.", "Put the cursor in a client to remove it."),
    # --- roles ---------------------------------------------------------------------------
    "role.listener": ("serveur (écoute)", "server (listening)"),
    "role.server": ("serveur", "server"),
    "role.server_of": ("serveur ↔ client {n}", "server ↔ client {n}"),
    "role.queued": ("file d'attente accept()", "accept() queue"),
    "role.queued_of": ("file d'attente ← client {n}", "accept() queue ← client {n}"),
    "role.client": ("client {n}", "client {n}"),
    "role.external": ("externe", "external"),
    "role.orphaned": ("orphelin", "orphaned"),
    "role.orphaned_client": ("orphelin (client {n})", "orphaned (client {n})"),
    "role.orphaned_server": ("serveur orphelin ↔ client {n}", "orphaned server ↔ client {n}"),
    "role.other": ("autre", "other"),
    "table.earlier": plural(
        ("↺ en grisé : {n} connexion d'avant cette étape, encore dans le noyau", "↺ en grisé : {n} connexions d'avant cette étape, encore dans le noyau"),
        ("↺ dimmed: {n} connection from before this step, still in the kernel", "↺ dimmed: {n} connections from before this step, still in the kernel"),
    ),
    "pic.left_out": plural(
        ("+ {n} connexion d'une étape précédente, encore dans le noyau, non montrée ici", "+ {n} connexions d'étapes précédentes, encore dans le noyau, non montrées ici"),
        ("+ {n} connection from an earlier step, still in the kernel, not shown here", "+ {n} connections from earlier steps, still in the kernel, not shown here"),
    ),
    "role.unknown": ("inconnu (le système ne le dit pas)", "unknown (the OS does not tell)"),
    # --- diagram / ladder ----------------------------------------------------------------
    "dg.connect": ("connect()", "connect()"),
    "dg.listen": ("listen()", "listen()"),
    "dg.close": ("close()", "close()"),
    "dg.timeout": ("2 MSL (60 s)", "2 MSL (60 s)"),
    "dg.legend.last": ("dernier passage", "last passage"),
    "dg.legend.inferred": ("déduit, non observé", "inferred, not observed"),
    "dg.empty": ("aucune connexion sur le port du TP", "no connection on the lab port"),
    "ld.time": ("heure", "time"),
    "ld.server": ("serveur", "server"),
    "ld.connect": ("connect()", "connect()"),
    "ld.send": ("« {text} »", "\"{text}\""),
    "ld.fin": ("« Fin » puis close()", "\"Fin\" then close()"),
    "ld.remove": ("close() sans « Fin »", "close() without \"Fin\""),
    "ld.close": ("close()", "close()"),
    "ld.released": ("close() (accept() suivant)", "close() (next accept())"),
    "ld.stop": ("serveur arrêté : close()", "server stopped: close()"),
    "ld.inferred": ("{seg} (déduit)", "{seg} (inferred)"),
    "ld.state_inferred": ("(déduit)", "(inferred)"),
    "ld.accepted": ("accept()", "accept()"),
    "ld.received": ("reçu « {text} »", "received \"{text}\""),
    "ld.fin_received": ("« Fin » reçu", "\"Fin\" received"),
    "ld.eof": ("fin de flux, sans « Fin »", "end of stream, no \"Fin\""),
    "ld.reset": ("RST reçu", "RST received"),
    "ld.empty": ("Rien encore pour le client {n}.", "Nothing yet for client {n}."),
    "ld.none": ("Choisissez un client.", "Pick a client."),
    # --- steps / bundle ------------------------------------------------------------------
    "setup.timeout": (
        "Étape {step} : {what} n'a pas abouti en {s} s. Vérifiez que le serveur tourne, puis "
        "relancez l'étape.",
        "Step {step}: {what} did not happen within {s} s. Check that the server runs, then "
        "set the step up again.",
    ),
    "setup.connect": ("la connexion du client {n}", "client {n}'s connection"),
    "setup.accept": ("l'accept() du client {n} par le serveur", "the server's accept() of client {n}"),
    "setup.close": ("la fermeture du client {n}", "client {n}'s close"),
    "setup.connect_failed": (
        "Le client {n} n'a pas pu se connecter au serveur.",
        "Client {n} could not connect to the server.",
    ),
    "setup.send_failed": (
        "Le client {n} ne peut plus envoyer : sa connexion est fermée.",
        "Client {n} can no longer send: its connection is closed.",
    ),
    "ev.mode": ("Serveur en mode {mode}", "Server in {mode} mode"),
    "ev.mode.missing": ("Le serveur doit être en mode {mode}", "The server must be in {mode} mode"),
    "ev.listen": ("Le serveur écoute sur {addr} (LISTEN)", "The server listens on {addr} (LISTEN)"),
    "ev.listen.missing": (
        "Aucune ligne LISTEN pour le port {addr}",
        "No LISTEN row for port {addr}",
    ),
    "ev.established": (
        "Connexion {client} ↔ {server} ESTABLISHED des deux côtés (client {n})",
        "Connection {client} ↔ {server} ESTABLISHED on both ends (client {n})",
    ),
    "ev.established.missing": (
        "Aucune connexion ESTABLISHED vue à la fois côté serveur et côté client",
        "No connection ESTABLISHED seen on both the server's and the client's end",
    ),
    "ev.message": plural(("{n} message reçu par le serveur", "{n} messages reçus par le serveur"), ("{n} message received by the server", "{n} messages received by the server")),
    "ev.message.missing": (
        "Aucun message reçu par le serveur pendant l'étape",
        "No message received by the server during the step",
    ),
    "ev.message.missing.nobytes": (
        "Aucun message reçu par le serveur pendant l'étape (ce système ne compte pas les octets de chaque socket : un message compte quand le serveur intégré le reçoit, ou quand votre serveur l'affiche sur une ligne, seul ou à la fin)",
        "No message received by the server during the step (this system gives no byte counts per socket: a message counts when the built-in server receives it, or when your server prints it on a line, alone or at its end)",
    ),
    "ev.kernel_bytes": plural(("Vu par le noyau : {n} octet reçu par le côté serveur de la connexion du client {client} ({peer})", "Vu par le noyau : {n} octets reçus par le côté serveur de la connexion du client {client} ({peer})"), ("Seen by the kernel: {n} byte received by the server's end of client {client}'s connection ({peer})", "Seen by the kernel: {n} bytes received by the server's end of client {client}'s connection ({peer})")),
    "ev.kernel_fin": (
        "Vu par le noyau : après « Fin », le FIN du client {client} ({peer}) a été acquitté, donc tout ce qu'il a envoyé est arrivé à la socket du serveur",
        "Seen by the kernel: after \"Fin\", client {client}'s FIN ({peer}) was acknowledged, so everything it sent reached the server's socket",
    ),
    "ev.mode.behaviour": (
        "Serveur lancé hors de l'application : son mode se juge à son comportement dans les lignes de l'étape (multi-thread : deux clients servis en même temps)",
        "A server the app did not start: its mode is judged by its behaviour in the step's rows (threaded: two clients served at the same time)",
    ),
    "ev.close_wait": (
        "Côté serveur {server} en CLOSE_WAIT, côté client {client} en FIN_WAIT_2 (client {n})",
        "Server end {server} in CLOSE_WAIT, client end {client} in FIN_WAIT_2 (client {n})",
    ),
    "ev.close_wait.missing": (
        "Pas de connexion avec le côté serveur en CLOSE_WAIT et le côté client en FIN_WAIT_2",
        "No connection with the server's end in CLOSE_WAIT and the client's in FIN_WAIT_2",
    ),
    "ev.owner": (
        "Le côté serveur appartient toujours au processus {who} (pid {pid})",
        "The server's end still belongs to process {who} (pid {pid})",
    ),
    "ev.orphan": (
        "Le côté client n'appartient plus à aucun processus (orphelin ; « System » sous Windows)",
        "The client's end belongs to no process any more (orphaned; \"System\" on Windows)",
    ),
    "ev.fin": ("« Fin » reçu par le serveur", "\"Fin\" received by the server"),
    "ev.fin.missing": (
        "Le serveur n'a pas reçu « Fin » pendant l'étape",
        "The server did not receive \"Fin\" during the step",
    ),
    "ev.two_clients": ("{n} clients en ESTABLISHED", "{n} clients ESTABLISHED"),
    "ev.two_clients.missing": (
        "Il faut deux clients en ESTABLISHED (vu : {n})",
        "Two clients must be ESTABLISHED (seen: {n})",
    ),
    "ev.served": ("Le client {n} est servi par le serveur", "Client {n} is served by the server"),
    "ev.served.missing": (
        "Aucun client servi par le serveur (côté serveur avec son processus)",
        "No client served by the server (server end owned by its process)",
    ),
    "ev.queued": (
        "Client {n} en attente dans la file d'accept() (côté serveur sans processus)",
        "Client {n} waiting in the accept() queue (server end with no process)",
    ),
    "ev.queued.missing": (
        "Aucun client en attente dans la file d'accept()",
        "No client waiting in the accept() queue",
    ),
    "ev.refused": (
        "La connexion du client {n} a été refusée : la file d'accept() était pleine (Windows la refuse au lieu de la laisser en SYN_SENT)",
        "Client {n}'s connection was refused: the accept() queue was full (Windows refuses it instead of leaving it in SYN_SENT)",
    ),
    "ev.queued_or_refused.missing": (
        "Aucun client en attente dans la file d'accept(), et aucune connexion refusée",
        "No client waiting in the accept() queue, and no connection refused",
    ),
    "ev.queued_bytes": (
        "Le message du client {n} attend dans la file : Recv-Q = {bytes} octets côté serveur",
        "Client {n}'s message waits in the queue: Recv-Q = {bytes} bytes on the server's end",
    ),
    "ev.queued_bytes.missing": (
        "Le client en attente ({n}) n'a encore rien envoyé (Recv-Q vide côté serveur)",
        "The waiting client ({n}) has sent nothing yet (empty Recv-Q on the server's end)",
    ),
    "ev.queued_bytes.unknown": (
        "Ce système ne donne pas les files d'attente : le message du client en attente ne peut pas être vérifié",
        "This system does not give queue lengths: the waiting client's message cannot be checked",
    ),
    "ev.queued_silent": (
        "Rien n'a été reçu du client en attente ({n})",
        "Nothing was received from the waiting client ({n})",
    ),
    "ev.queued_silent.missing": (
        "Le serveur a reçu des messages du client censé attendre ({n})",
        "The server received messages from the client that should be waiting ({n})",
    ),
    "ev.two_served": (
        "{n} connexions servies en même temps (ESTABLISHED côté serveur)",
        "{n} connections served at once (ESTABLISHED on the server's end)",
    ),
    "ev.two_served.missing": (
        "Il faut deux connexions ESTABLISHED servies côté serveur (vu : {n})",
        "Two served ESTABLISHED connections are needed on the server's end (seen: {n})",
    ),
    "ev.two_senders": (
        "Messages reçus de {n} clients différents",
        "Messages received from {n} different clients",
    ),
    "ev.two_senders.missing": (
        "Il faut des messages de deux clients différents (vu : {n})",
        "Messages from two different clients are needed (seen: {n})",
    ),
    "ev.two_senders.missing.nobytes": (
        "Il faut des messages de deux clients différents (vu : {n} ; ce système ne compte pas les octets de chaque socket : un message compte quand le serveur intégré le reçoit, ou quand votre serveur l'affiche sur une ligne, seul ou à la fin)",
        "Messages from two different clients are needed (seen: {n}; this system gives no byte counts per socket: a message counts when the built-in server receives it, or when your server prints it on a line, alone or at its end)",
    ),
    "ev.time_wait": (
        "Côté client {client} en TIME_WAIT vers {server} (client {n})",
        "Client end {client} in TIME_WAIT towards {server} (client {n})",
    ),
    "ev.time_wait.missing": (
        "Aucun côté client en TIME_WAIT après « Fin »",
        "No client end in TIME_WAIT after \"Fin\"",
    ),
    "ev.server_gone": (
        "Le côté serveur de cette connexion a disparu (fermé après LAST_ACK)",
        "The server's end of that connection is gone (closed after LAST_ACK)",
    ),
    "stamp.line": (
        "Élève : {student} · Hôte : {host} · {time} · Étape {step} · TCP Observatory {version}",
        "Student: {student} · Host: {host} · {time} · Step {step} · TCP Observatory {version}",
    ),
    "bundle.cannot_write": (
        "Impossible d'écrire dans {folder} ({reason}) : choisissez un dossier où vous pouvez "
        "écrire.",
        "Cannot write to {folder} ({reason}): choose a folder you can write to.",
    ),
    "bundle.not_dir": ("ce n'est pas un dossier", "it is not a folder"),
    "bundle.no_student": (
        "Indiquez votre nom avant de prendre une capture : il est inscrit sur chacune.",
        "Enter your name before taking a screenshot: it is stamped on each one.",
    ),
    "bundle.no_folder": ("Le dossier {folder} n'existe pas.", "Folder {folder} does not exist."),
    "bundle.not_folder": ("{folder} n'est pas un dossier.", "{folder} is not a folder."),
    "bundle.no_manifest": (
        "{folder} ne contient pas de manifest.json : ce n'est pas un dossier de captures de "
        "TCP Observatory.",
        "{folder} has no manifest.json: it is not a TCP Observatory screenshots folder.",
    ),
    "bundle.unreadable": ("Impossible de lire {file} ({reason}).", "Cannot read {file} ({reason})."),
    "bundle.not_json": (
        "{file} est endommagé (ce n'est pas du JSON) : restaurez-le ou déplacez-le.",
        "{file} is damaged (not JSON): restore it or move it away.",
    ),
    "bundle.bad_manifest": (
        "{file} n'a pas la forme d'un manifeste de TCP Observatory : restaurez-le ou "
        "déplacez-le.",
        "{file} is not shaped like a TCP Observatory manifest: restore it or move it away.",
    ),
    "verify.header": (
        "Dossier {folder} · Élève : {student} · Hôte : {host} · TCP Observatory {version}",
        "Folder {folder} · Student: {student} · Host: {host} · TCP Observatory {version}",
    ),
    "verify.col.step": ("Étape", "Step"),
    "verify.col.present": ("Présente", "Present"),
    "verify.col.intact": ("Intacte", "Intact"),
    "verify.col.evidence": ("Preuve", "Evidence"),
    "verify.col.stamp": ("Tampon", "Stamp"),
    "verify.col.shows": ("Image = relevé", "Shows record"),
    "verify.bad_name": (
        "Nom de fichier refusé dans le manifeste : {file}",
        "Refused file name in the manifest: {file}",
    ),
    "verify.missing_file": ("{file} manque", "{file} is missing"),
    "verify.unreadable_file": ("{file} illisible ({reason})", "{file} cannot be read ({reason})"),
    "verify.tampered": (
        "{file} a été modifié (empreinte sha256 différente)",
        "{file} was modified (sha256 differs)",
    ),
    "verify.bad_record": (
        "Données de {file} illisibles ({reason})",
        "The data stored for {file} cannot be read ({reason})",
    ),
    "verify.bad_entry": ("Entrée du manifeste illisible", "Unreadable manifest entry"),
    "verify.unknown_step": (
        "{file} : étape inconnue {step} (ignorée)",
        "{file}: unknown step {step} (ignored)",
    ),
    "stamp.seal": ("sceau", "seal"),
    "verify.seal": ("le relevé enregistré ne correspond pas à sa capture (sceau)", "the stored record does not match its screenshot (seal)"),
    "verify.seal_broken": ("{file} : le relevé du manifeste a été modifié après la capture (le sceau ne correspond plus)", "{file}: the manifest's record was changed after the screenshot (the seal no longer matches)"),
    "verify.reused": ("{file} est la même image que {other}", "{file} is the same picture as {other}"),
    "verify.other_student": (
        "{file} est au nom de {student}, pas de l'élève du manifeste",
        "{file} is in the name of {student}, not the manifest's student",
    ),
    "verify.no_stamp": (
        "le tampon (élève, hôte, étape, version) n'apparaît pas dans l'image",
        "the stamp (student, host, step, version) does not appear in the picture",
    ),
    "verify.extra": (
        "Fichiers inconnus (non bloquant) : {files}",
        "Unknown files (not fatal): {files}",
    ),
    "verify.ok": (
        "VALIDE : les {n} étapes sont présentes, intactes, prouvées et tamponnées.",
        "ACCEPTED: all {n} steps are present, intact, proven and stamped.",
    ),
    "verify.demo_intact": ("REFUSÉ : c'est la démo de l'application, intacte ; ce n'est pas la remise d'un élève.", "REJECTED: this is the app's demo, intact; it is not a student's submission."),
    "verify.demo_picture": ("{file} : une capture de la démo de l'application (son filigrane est visible), pas celle d'un élève", "{file}: a picture of the app's demo (its watermark is visible), not a student's"),
    "verify.sent_by_app": plural(("{file} : l'application a envoyé elle-même {n} message de l'étape ; ce n'est pas le travail de l'élève", "{file} : l'application a envoyé elle-même {n} messages de l'étape ; ce n'est pas le travail de l'élève"), ("{file}: the app itself sent {n} of the step's messages; this is not the student's work", "{file}: the app itself sent {n} of the step's messages; this is not the student's work")),
    "verify.scene_by_app": ("{file} : scène préparée par l'application ({what})", "{file}: scene set up by the app ({what})"),
    "verify.shared": ("{a} et {b} partagent la même preuve du noyau : {facts}{also}. {first}", "{a} and {b} share the same kernel evidence: {facts}{also}. {first}"),
    "verify.shared.instant": ("{step} : port {port} lu au même instant ({time})", "{step}: port {port} read at the same instant ({time})"),
    "verify.shared.inode": ("{step} : port {port}, même socket (inode {inode}, lu à {time})", "{step}: port {port}, the same socket (inode {inode}, read at {time})"),
    "verify.shared.more": plural(("et {n} autre connexion", "et {n} autres connexions"), ("and {n} more connection", "and {n} more connections")),
    "verify.shared.host": ("même hôte {host}", "the same host {host}"),
    "verify.shared.pids": ("mêmes pid {pids}", "the same pids {pids}"),
    "verify.shared.first_taken": ("Les images de {first} ont été prises d'abord ({t1}, contre {t2} pour {other}).", "{first}'s pictures were taken first ({t1}, against {t2} for {other})."),
    "verify.shared.first_written": ("Les images de {first} ont été écrites quand elles ont été prises, celles de {other} {delay} plus tard : {other} tient la copie.", "{first}'s pictures were written when they were taken, {other}'s {delay} later: {other} holds the copy."),
    "verify.shared.first_unknown": ("Rien ne dit lequel est venu d'abord : mêmes heures enregistrées, fichiers aux mêmes dates.", "Nothing tells which came first: the same recorded times, files of the same dates."),
    "verify.shared_count": plural(("{n} paire de remises partage une preuve du noyau :", "{n} paires de remises partagent une preuve du noyau :"), ("{n} pair of submissions shares kernel evidence:", "{n} pairs of submissions share kernel evidence:")),
    "verify.copies_below": plural(("partage sa preuve du noyau avec {n} autre remise (voir plus bas)", "partage sa preuve du noyau avec {n} autres remises (voir plus bas)"), ("shares its kernel evidence with {n} other submission (see below)", "shares its kernel evidence with {n} other submissions (see below)")),
    "verify.report_not_written": ("report.html de {folder} non réécrit ({reason})", "{folder}'s report.html not rewritten ({reason})"),
    "verify.pic.differs": ("{file} (étape {step}) : l'image ne montre pas ce que dit son relevé scellé : {what}", "{file} (step {step}): the picture does not show what its sealed record says: {what}"),
    "verify.pic.stamp_time": ("son tampon dit {shown}, le manifeste {expected}", "its stamp says {shown}, the manifest {expected}"),
    "verify.pic.no_table": ("le tableau de l'étape n'y est pas", "the step's table is not in it"),
    "verify.pic.row_missing": ("la ligne {row} du relevé ({who}) n'y est pas ; on attendait {column} « {expected} »", "row {row} of the record ({who}) is not in it; {column} \"{expected}\" was expected"),
    "verify.pic.row_extra": ("elle montre une ligne {row} que le relevé n'a pas ({column} « {shown} »)", "it shows a row {row} the record does not have ({column} \"{shown}\")"),
    "verify.pic.cell": ("ligne {row} ({who}), colonne {column} : l'image montre « {shown} », le relevé « {expected} »", "row {row} ({who}), column {column}: the picture shows \"{shown}\", the record \"{expected}\""),
    "verify.answer_no_digest": ("La réponse à {step} n'a pas l'empreinte que l'application enregistre (écrite hors de l'application, ou par une version plus ancienne)", "The answer to {step} lacks the digest the app stores (written outside the app, or by an older version)"),
    "verify.answer_edited": ("La réponse à {step} a été modifiée hors de l'application (elle ne correspond plus à l'empreinte enregistrée quand l'application l'a sauvegardée)", "The answer to {step} was edited outside the app (it no longer matches the digest stored when the app saved it)"),
    "dur.s": ("{n} s", "{n} s"),
    "dur.min": ("{n} min", "{n} min"),
    "dur.h": ("{n} h", "{n} h"),
    "dur.d": plural(("{n} jour", "{n} jours"), ("{n} day", "{n} days")),
    "grade.met": ("validée", "met"),
    "grade.missing": ("absente", "missing"),
    "grade.refused": ("refusée", "refused"),
    "grade.no_shot": ("{step} : pas de capture", "{step}: no screenshot"),
    "grade.note": ("note : {note}", "note: {note}"),
    "class.title": ("TCP Observatory — TP 1 Réseau : la classe, question par question", "TCP Observatory — network lab 1: the class, question by question"),
    "class.made": ("Page écrite le {time} par tcp-observatory verify.", "Written on {time} by tcp-observatory verify."),
    "class.col.student": ("Élève", "Student"),
    "class.col.folder": ("Dossier", "Folder"),
    "class.col.verdict": ("Verdict", "Verdict"),
    "class.copies": ("Copies : preuves du noyau partagées", "Copies: shared kernel evidence"),
    "class.no_copies": ("Aucune paire de remises ne partage de preuve du noyau.", "No two submissions share kernel evidence."),
    "class.open": ("Cliquez sur une carte pour voir sa capture en grand, et encore une fois pour la refermer.", "Click a card to see its picture full size, and again to close it."),
    "demo.watermark": ("DÉMO de l'application, pas le travail d'un élève", "The app's DEMO, not a student's work"),
    "verify.failed": ("REFUSÉ : {why}.", "REJECTED: {why}."),
    "verify.many": plural(("{n} remise valide sur {total}.", "{n} remises valides sur {total}."), ("{n} of {total} submissions accepted.", "{n} of {total} submissions accepted.")),
    "verify.why.missing": plural(("{n} étape sans capture", "{n} étapes sans capture"), ("{n} step without a screenshot", "{n} steps without a screenshot")),
    "verify.why.tampered": plural(
        ("{n} étape avec un fichier modifié ou manquant", "{n} étapes avec un fichier modifié ou manquant"),
        ("{n} step with a modified or missing file", "{n} steps with a modified or missing file"),
    ),
    "verify.why.evidence": plural(("{n} étape sans la preuve attendue", "{n} étapes sans la preuve attendue"), ("{n} step without the expected evidence", "{n} steps without the expected evidence")),
    "verify.why.stamp": plural(("{n} étape sans tampon visible", "{n} étapes sans tampon visible"), ("{n} step without a visible stamp", "{n} steps without a visible stamp")),
    "verify.why.problems.above": plural(("{n} problème signalé ci-dessus", "{n} problèmes signalés ci-dessus"), ("{n} problem listed above", "{n} problems listed above")),
    "verify.why.problems.below": plural(("{n} problème signalé ci-dessous", "{n} problèmes signalés ci-dessous"), ("{n} problem listed below", "{n} problems listed below")),
    "verify.why.problems.listed": plural(("{n} problème signalé", "{n} problèmes signalés"), ("{n} problem reported", "{n} problems reported")),
    "verify.why.picture": plural(("{n} étape dont l'image ne montre pas son relevé", "{n} étapes dont l'image ne montre pas son relevé"), ("{n} step whose picture does not show its record", "{n} steps whose picture does not show its record")),
    "verify.why.unmatched": (
        "aucune capture ne réunit preuve et tampon",
        "no screenshot has both the evidence and the stamp",
    ),
    "report.title": ("TCP Observatory — TP 1 Réseau : remise", "TCP Observatory — network lab 1: submission"),
    "report.student": ("Élève", "Student"),
    "report.host": ("Hôte", "Host"),
    "report.version": ("Application", "Application"),
    "report.created": ("Commencé le", "Started"),
    "report.updated": ("Mis à jour le", "Updated"),
    "report.summary": ("Résumé", "Summary"),
    "report.col.title": ("Intitulé", "Title"),
    "report.answer": ("Réponse de l'élève", "Student's answer"),
    "report.no_answer": ("(pas de réponse)", "(no answer)"),
    "report.evidence": ("Preuve relevée", "Evidence found"),
    "report.no_screenshot": ("Aucune capture pour cette étape.", "No screenshot for this step."),
    "report.digest": ("Empreinte du manifeste (sha256)", "Manifest digest (sha256)"),
    "report.not_verified": ("NON VÉRIFIÉ : l'application a écrit cette page au moment des captures ; elle ne garantit rien. Seul « tcp-observatory verify » donne un verdict (et réécrit cette page).", "NOT VERIFIED: the app wrote this page when the pictures were taken; it vouches for nothing. Only \"tcp-observatory verify\" gives a verdict (and rewrites this page)."),
    "report.verified": ("Vérifié par tcp-observatory verify le {time}.", "Checked by tcp-observatory verify on {time}."),
    "report.recorded": ("Preuve relevée par l'application (non vérifiée)", "Evidence recorded by the app (not verified)"),
    "report.caption": ("{file} · {time}", "{file} · {time}"),
    # --- the student's own programs (--exec-server / --exec-client) ------------------------
    "prog.err.syntax": ("Commande illisible : {reason} ; vérifiez les guillemets.", "Unreadable command: {reason}; check the quotes."),
    "prog.err.empty": ("La commande est vide : donnez le programme à lancer, par exemple \"python3 Serveur.py\".", "The command is empty: give the program to run, for example \"python3 Serveur.py\"."),
    "prog.err.not_found": ("Programme introuvable : {name} ; vérifiez son nom et le dossier courant.", "Program not found: {name}; check its name and the current folder."),
    "prog.err.permission": ("Impossible de lancer {name} : permission refusée (est-il exécutable ?).", "Cannot run {name}: permission denied (is it executable?)."),
    "prog.err.start": ("Impossible de lancer {name} : {reason}.", "Cannot run {name}: {reason}."),
    "prog.err.other_port": ("{name} écoute sur le port {ports}, pas sur le port du TP {port} : mettez {{port}} dans la commande ou changez le port dans le programme.", "{name} listens on port {ports}, not on the lab port {port}: put {{port}} in the command or change the port in the program."),
    "prog.err.no_listen": ("{name} n'écoute pas sur le port {port} après {seconds} s : vérifiez bind() et listen() dans le programme.", "{name} is not listening on port {port} after {seconds} s: check bind() and listen() in the program."),
    "prog.exit.status": ("{name} s'est terminé (code {status}).", "{name} ended (status {status})."),
    "prog.exit.at_once": ("{name} s'est arrêté dès le lancement (code {status}) : lisez son message d'erreur ci-dessus.", "{name} stopped as soon as it started (status {status}): read its error message above."),
    "prog.exit.signal": ("{name} a été arrêté ({signal}).", "{name} was stopped ({signal})."),
    "pane.dropped": plural(
        ("… {n} ligne plus ancienne n'est plus affichée (le panneau garde les {max} dernières)", "… {n} lignes plus anciennes ne sont plus affichées (le panneau garde les {max} dernières)"),
        ("… {n} earlier line dropped (the pane keeps the last {max})", "… {n} earlier lines dropped (the pane keeps the last {max})"),
    ),
    "prog.waiting": ("En attente d'un serveur sur le port {port} : {name} sera lancé dès qu'un serveur y écoutera.", "Waiting for a server on port {port}: {name} starts once one listens there."),
    "prog.input.stalled": ("{name} ne lit pas son entrée : {size} en attente ; les lignes suivantes attendent qu'il les lise (jusqu'à {max}).", "{name} is not reading its input: {size} waiting; further lines wait until it reads them (up to {max})."),
    "prog.input.refused": ("Ligne non envoyée : {name} ne lit pas son entrée ({size} déjà en attente).", "Line not sent: {name} is not reading its input ({size} already waiting)."),
    "prog.input.resumed": ("{name} lit de nouveau son entrée.", "{name} reads its input again."),
    "size.bytes": plural(("{n} octet", "{n} octets"), ("{n} byte", "{n} bytes")),
    "size.kib": ("{n} Kio", "{n} KiB"),
    "act.program-server": ("votre serveur lancé : {text}", "your server started: {text}"),
    "prog.step.single": ("Avec vos programmes : cette étape demande votre serveur à un seul client (listing 2, sans thread) ; relancez l'application avec --exec-server \"python3 Serveur.py\" s'il en tourne un autre. Tapez vous-même les messages et « Fin » dans vos clients.", "With your programs: this step needs your single-client server (listing 2, no thread); restart the app with --exec-server \"python3 Serveur.py\" if another one runs. Type the messages and \"Fin\" in your clients yourself."),
    "prog.step.threaded": ("Avec vos programmes : cette étape demande votre serveur multi-thread (listing 3) ; relancez l'application avec --exec-server \"python3 ServeurMultiThread.py\" s'il en tourne un autre. Tapez vous-même les messages et « Fin » dans vos clients.", "With your programs: this step needs your threaded server (listing 3); restart the app with --exec-server \"python3 ServeurMultiThread.py\" if another one runs. Type the messages and \"Fin\" in your clients yourself."),
    "prog.step.restart": ("Avec vos programmes : Ctrl+R relance pour cette étape votre serveur « {command} », puis vos clients dans l'ordre. Tapez vous-même les messages et « Fin » dans vos clients.", "With your programs: Ctrl+R starts your server \"{command}\" afresh for this step, then your clients in order. Type the messages and \"Fin\" in your clients yourself."),
    "prog.step.clients": ("Avec vos clients : tapez vous-même les messages et « Fin » dans leurs panneaux.", "With your clients: type the messages and \"Fin\" in their panes yourself."),
    "prog.setup.no_server": ("Votre serveur ne tourne pas : lisez son message dans le panneau du serveur, corrigez-le et relancez l'application.", "Your server is not running: read its message in the server pane, fix it and restart the app."),
    "prog.setup.listen": ("votre serveur à l'écoute sur le port {port}", "your server listening on port {port}"),
    "prog.app.server": ("Votre serveur {name} (port {port})", "Your server {name} (port {port})"),
    "prog.server.info": ("votre programme : {command}", "your program: {command}"),
    "prog.started": ("Lancé : {command} (pid {pid})", "Started: {command} (pid {pid})"),
}


def default_lang() -> str:
    """French when the system locale says French, English otherwise."""
    for var in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = os.environ.get(var, "")
        if value:
            return "fr" if value.lower().startswith("fr") else "en"
    import locale  # only when no variable says: a one-shot command should not pay for it

    try:
        code = locale.getlocale()[0] or ""
    except ValueError:
        code = ""
    return "fr" if code.lower().startswith(("fr", "french")) else "en"


_language: list[str] = []  # set by the command lines from --lang; else the system locale


def set_language(lang: str) -> None:
    """The language of messages made where no ``lang`` is at hand (errors from sockets)."""
    _language[:] = [lang if lang in LANGS else "en"]


def current_language() -> str:
    if not _language:
        _language.append(default_lang())
    return _language[0]


_FR_BEFORE = re.compile(r" ([:;?!»])")
_FR_AFTER = re.compile(r"« ")


def french(text: str) -> str:
    """French typography: a no-break space before ``: ; ? ! »`` and after ``«``.

    Only a plain space is replaced: ``http://``, ``10:30`` and ``--port`` are left alone.
    """
    return _FR_AFTER.sub("«" + NBSP, _FR_BEFORE.sub(NBSP + r"\1", text))


_french_done: dict[str, str] = {}


def _fr(text: str) -> str:
    """``french(text)``, typeset once, when first asked: typesetting the whole catalogue at
    import cost every one-shot command ~2 ms."""
    done = _french_done.get(text)
    if done is None:
        done = _french_done[text] = french(text)
    return done


# The tests set this: an unknown key then fails loudly instead of showing as itself.
STRICT = os.environ.get("TCP_OBSERVATORY_STRICT_I18N") == "1"


def texts(key: str, lang: str) -> list[str]:
    """Every form of ``key`` in ``lang`` (one, or a plural's two): for the tests."""
    entry = MESSAGES[key]
    if isinstance(entry, Plural):
        forms = list(entry.forms(lang))
    else:
        forms = [entry[0] if lang == "fr" else entry[1]]
    return [_fr(form) for form in forms] if lang == "fr" else forms


def placeholders(text: str) -> set[str]:
    import string

    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def t(key: str, lang: str, /, **values: object) -> str:
    """Format message ``key`` in ``lang``; a plural entry picks its form by ``n``.

    An unknown key shows as itself, so a user never meets a crash; under the tests
    (``STRICT``) it raises, so a missing key fails them.
    """
    entry = MESSAGES.get(key)
    if entry is None:
        if STRICT:
            raise KeyError(f"no message {key!r} in the catalogue")
        return key
    if isinstance(entry, Plural):
        text = entry.pick(lang, values.get("n"))
    else:
        text = entry[0] if lang == "fr" else entry[1]
    if lang == "fr":
        text = _fr(text)
        values = {k: FrenchNumber(v) if type(v) is float else v for k, v in values.items()}
    return text.format(**values) if values else text
