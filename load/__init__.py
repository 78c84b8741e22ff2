"""Load, failover and benchmark tools for PiggyBank (issue 6): Locust journeys, the failover drill,
the benchmark against the bare limits. Results go to load/results/ (git-ignored)."""
