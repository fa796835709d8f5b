"""The local runtime: the whole template on one machine, on moto, without Docker. Never deployed."""
