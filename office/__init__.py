"""The community office: the central store's command line (and later its server and console)."""
