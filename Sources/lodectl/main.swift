print("lodectl: not yet")
