"""The web console (server-rendered pages and the JSON API); see `server.create_web`."""
