from pytest_ssot.cli import main

raise SystemExit(main())
