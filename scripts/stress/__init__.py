"""podd's stress suite (issue 9): load, churn, chaos, disk full, fuzz and limits, each against
a podd of its own on a temporary state dir and socket. `make stress` runs every case at full
scale and prints a table; Tests/integration/test_stress.py runs each at STRESS_SCALE=small."""
