print("lode-publish: not yet")
