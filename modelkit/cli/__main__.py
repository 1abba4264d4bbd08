"""``python -m modelkit.cli``."""

from modelkit.cli.main import main

main()
