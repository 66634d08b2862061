"""Stand-in for a student's client (handout listing 1, Python 3): sends each stdin line.

Usage: python client.py PORT
"""
import socket
import sys

port = int(sys.argv[1]) if len(sys.argv) > 1 else 9500
ConnexionAUnServeur = socket.socket()
print("Console Client", flush=True)
ConnexionAUnServeur.connect(("127.0.0.1", port))
print("Connecte depuis", ConnexionAUnServeur.getsockname()[1], flush=True)
Message_A_Transmettre = ""
while Message_A_Transmettre != "Fin":
    ligne = sys.stdin.readline()
    if not ligne:
        break
    Message_A_Transmettre = ligne.rstrip("\n")
    ConnexionAUnServeur.send(Message_A_Transmettre.encode())
ConnexionAUnServeur.close()
print("Fin du programme", flush=True)
