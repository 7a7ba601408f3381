import socket


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on (now: another process may take it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
