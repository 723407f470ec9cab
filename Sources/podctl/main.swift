print("podctl")
