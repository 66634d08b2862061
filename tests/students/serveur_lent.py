"""Stand-in for a server slow to listen (a JVM starting): it binds and listens only once a
line arrives on its input; then it serves as the handout's single server (listing 2).

Usage: python serveur_lent.py PORT
"""
import socket
import sys

port = int(sys.argv[1]) if len(sys.argv) > 1 else 9500
print("Appuyez sur Entree pour lancer le serveur", flush=True)
sys.stdin.readline()
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
