"""The Textual app: the screen. Everything about sockets and the kernel lives in ``lab``."""
