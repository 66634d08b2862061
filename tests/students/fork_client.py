"""Stand-in for a client that hands its connection to a process of its own and exits.

After a line on its input it forks; the child leaves the session (setsid) and forks again;
the grandchild keeps the connection and prints its pid; the others exit at once (the
double fork of a daemon). Nothing but its environment ties the grandchild to the program.
Usage: python fork_client.py PORT
"""
import os
import socket
import sys
import time

port = int(sys.argv[1]) if len(sys.argv) > 1 else 9500
ConnexionAUnServeur = socket.create_connection(("127.0.0.1", port))
print("Connecte depuis", ConnexionAUnServeur.getsockname()[1], flush=True)
sys.stdin.readline()
if os.fork():
    os._exit(0)
os.setsid()
if os.fork():
    os._exit(0)
print("petit-fils", os.getpid(), flush=True)
while True:
    time.sleep(3600)
