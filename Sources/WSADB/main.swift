print("wsadb: under construction")
