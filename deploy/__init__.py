"""Running paperchat as a service: a Chroma server, N chat replicas and a reverse proxy."""
