"""Stand-in for a student's single-client server (handout listing 2, Python 3).

Never closes the connection after "Fin": the accepted socket is only released when the
next accept() rebinds the variable, so the server side stays in CLOSE_WAIT.
Usage: python serveur_single.py PORT
"""
import socket
import sys

port = int(sys.argv[1]) if len(sys.argv) > 1 else 9500
SocketServeur = socket.socket()
SocketServeur.bind(("127.0.0.1", port))
SocketServeur.listen(1)
print("Lancement serveur", flush=True)
while True:
    ConnexionAvecClient, adresse = SocketServeur.accept()
    print("Connexion de la machine", adresse, flush=True)
    Reception = ""
    while Reception != "Fin":
        Reception = ConnexionAvecClient.recv(1024).decode(errors="replace")
        if not Reception:
            break
        print(Reception, flush=True)
    print("Deconnexion de :", adresse, flush=True)
