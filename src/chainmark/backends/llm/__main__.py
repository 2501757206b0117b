from chainmark.backends.llm.server import main

main()
