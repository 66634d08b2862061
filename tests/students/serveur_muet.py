"""Stand-in for a student's server that prints nothing at all: only the kernel can tell
that a client's message reached it.

Single (listing 2, never closes after "Fin": the server's end stays in CLOSE_WAIT until
the next accept() rebinds the variable), or with ``thread`` one thread per client
(listing 3: closes after "Fin", once the client closed first). SO_REUSEADDR, so that a
test may start another server on the same port at once.

Usage: python serveur_muet.py PORT [thread]
"""
import socket
import sys
import threading

port = int(sys.argv[1]) if len(sys.argv) > 1 else 9500
threaded = len(sys.argv) > 2 and sys.argv[2] == "thread"


def servir(conn: socket.socket) -> None:
    reception = ""
    while reception != "Fin":
        reception = conn.recv(1024).decode(errors="replace")
        if not reception:
            break
    if threaded:
        conn.settimeout(1.0)  # let the client close first: its end is the TIME_WAIT one
        try:
            while conn.recv(1024):
                pass
        except OSError:
            pass
        conn.close()


serveur = socket.socket()
serveur.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
serveur.bind(("127.0.0.1", port))
serveur.listen(5 if threaded else 1)
while True:
    connexion, adresse = serveur.accept()
    if threaded:
        threading.Thread(target=servir, args=(connexion,), daemon=True).start()
    else:
        servir(connexion)
