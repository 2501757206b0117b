import sys

from chainmark.backends.ollama.build import main

sys.exit(main())
