print("podd")
