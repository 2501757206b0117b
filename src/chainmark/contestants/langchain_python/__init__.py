"""LangChain Python, with the classic APIs the article used."""
