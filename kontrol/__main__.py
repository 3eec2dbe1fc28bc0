import sys

from kontrol.cli import main

sys.exit(main())
