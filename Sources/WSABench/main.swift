print("wsabench: under construction")
