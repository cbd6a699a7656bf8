from pytest_ssot.cli import main

# Guarded: with the "spawn" start method (macOS, Windows) worker processes import the main
# module again, and must not run the command line once more.
if __name__ == "__main__":
    raise SystemExit(main())
