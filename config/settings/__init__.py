"""Settings package: base (shared), dev (demo/development), test, production."""
