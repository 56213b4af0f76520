"""Player implementations; `broadcaster.playout.player` is the public entry point."""
