from engine_factories import make_engine

__all__ = ["make_engine"]
