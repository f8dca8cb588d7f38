"""The control topic: actions every replica carries out, acknowledged on the ack topic.

``listener`` (replica side, read the whole topic, catch up on start), ``actions`` (what
each process can do), ``modules`` (config refresh with restore), ``acks`` (the ack and
heartbeat messages), ``sender`` (``streamcore control``: send, wait for live replicas).
"""
