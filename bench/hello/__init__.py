"""The yardstick: a Django "Hello, world" served exactly as the site is (bench/run.py)."""
