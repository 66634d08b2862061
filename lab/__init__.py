"""The lab engine: the handout's server and client, and the connection observer.

Nothing in this package imports Textual: scripts, tests and the app all use it.
"""

__version__ = "0.1.0"
