"""Offline emulator of the Claude upstreams, one dialect per provider package (providers/<id>/emulator.py).

Layout (after getmoto/moto): `server.py` builds its routes from the provider registry; each provider's dialect
decodes its wire with the one codec of its format (providers/_wire/) into the universal request, which the one
scripted model in `model.py` (state: caches, signatures) answers; the dialect encodes the Reply back.
"""
