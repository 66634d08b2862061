"""Every user-facing string, in French (the lab's language) and English.

``t(key, lang, **values)`` formats one. The default language follows the system locale.
"""

from __future__ import annotations

import locale
import os

LANGS = ("fr", "en")

# key -> (French, English)
MESSAGES: dict[str, tuple[str, str]] = {
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
    "srv.refused": (
        "Limite de {limit} clients atteinte : {peer} refusé (--max-clients)",
        "Limit of {limit} clients reached: {peer} refused (--max-clients)",
    ),
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
    # --- netstat / watch -----------------------------------------------------------------
    "ns.title": ("Connexions actives", "Active connections"),
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
    "ns.orphaned": ("orphelin", "orphaned"),
    # --- the app -------------------------------------------------------------------------
    "app.title": ("TCP Observatory", "TCP Observatory"),
    "app.server_at": ("Serveur {addr} · {mode}", "Server {addr} · {mode}"),
    "app.no_server": ("Pas de serveur (observation du port {port})", "No server (watching port {port})"),
    "app.server_stopped": ("Serveur arrêté (port {port})", "Server stopped (port {port})"),
    "app.paused": ("⏸ PAUSE", "⏸ PAUSED"),
    "app.filter_port": ("port {port}", "port {port}"),
    "app.filter_all": ("toutes les connexions", "all connections"),
    "key.add": ("+Client", "+Client"),
    "key.remove": ("−Client", "−Client"),
    "key.mode": ("Mode", "Mode"),
    "key.close_after_fin": ("close/Fin", "close/Fin"),
    "key.filter": ("Filtre", "Filter"),
    "key.pause": ("Pause", "Pause"),
    "key.server": ("Serveur", "Server"),
    "key.quit": ("Quitter", "Quit"),
    "key.present": ("Projection", "Present"),
    "key.step_back": ("Moment précédent", "Step back"),
    "key.step_forward": ("Moment suivant", "Step forward"),
    "app.moment": ("moment {i}/{n} ({time})", "moment {i}/{n} ({time})"),
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
    "proc.orphaned": ("orphelin", "orphaned"),
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
    "tl.paused": ("Vue figée : {n} événement(s) en attente. F7 reprend.", "View frozen: {n} event(s) waiting. F7 resumes."),
    "tl.resumed": ("Reprise : {n} événement(s) rattrapé(s).", "Resumed: {n} event(s) caught up."),
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
    "role.orphaned_server": ("orphelin (serveur ↔ client {n})", "orphaned (server ↔ client {n})"),
    "role.other": ("autre", "other"),
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
}


def default_lang() -> str:
    """French when the system locale says French, English otherwise."""
    for var in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = os.environ.get(var, "")
        if value:
            return "fr" if value.lower().startswith("fr") else "en"
    try:
        code = locale.getlocale()[0] or ""
    except ValueError:
        code = ""
    return "fr" if code.lower().startswith(("fr", "french")) else "en"


def t(key: str, lang: str, /, **values: object) -> str:
    """Format message ``key`` in ``lang``; an unknown key shows as itself (never crashes)."""
    pair = MESSAGES.get(key)
    if pair is None:
        return key
    text = pair[0] if lang == "fr" else pair[1]
    return text.format(**values) if values else text
