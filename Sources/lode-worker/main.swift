print("lode-worker: not yet")
