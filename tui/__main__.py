from tcp_observatory.tui.cli import main

raise SystemExit(main())
