"""Stand-in for a student's threaded server (handout listing 3, Python 3): closes after "Fin".

After "Fin" it waits (up to 1 s) for the client to close first.

Usage: python serveur_thread.py PORT
"""
import socket
import sys
import threading

port = int(sys.argv[1]) if len(sys.argv) > 1 else 9500


def servir(conn: socket.socket, adresse: tuple[str, int]) -> None:
    Reception = ""
    while Reception != "Fin":
        Reception = conn.recv(1024).decode(errors="replace")
        if not Reception:
            break
        print(threading.current_thread().name, Reception, flush=True)
    print("Deconnexion de :", adresse, flush=True)
    # Let the client close first, as the lab's threaded server does: the client's side is
    # then the one left in TIME_WAIT (a race on loopback otherwise).
    conn.settimeout(1.0)
    try:
        while conn.recv(1024):
            pass
    except OSError:
        pass
    conn.close()


SocketServeur = socket.socket()
SocketServeur.bind(("127.0.0.1", port))
SocketServeur.listen(1)
print("Lancement serveur multithread", flush=True)
while True:
    conn, adresse = SocketServeur.accept()
    print("Connexion de la machine", adresse, flush=True)
    threading.Thread(target=servir, args=(conn, adresse), daemon=True).start()
