"""Job functions for test_kv_rq.py: RQ imports them by dotted path."""


def add(a, b):
    return a + b


def fail(msg):
    raise ValueError(msg)
