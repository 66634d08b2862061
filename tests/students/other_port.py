"""Stand-in for a server that ignores the lab port and listens elsewhere."""
import socket
import time

s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
print("listening on", s.getsockname()[1], flush=True)
time.sleep(60)
