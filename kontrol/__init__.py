"""kontrol: register matching for a Kontrolgruppe mod socialt bedrageri.

Every case comes from a stated rule over register facts, with its evidence;
scores rank cases but never decide them; a human decides every case.
"""

__version__ = "0.1.0"
