"""The lab's sockets: the handout's server (single and threaded), its client, and framing."""
