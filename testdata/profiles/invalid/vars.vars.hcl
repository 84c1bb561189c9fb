list    = "misc/hello" # ERROR: Invalid value for variable
unknown = 1 # ERROR: Value for undeclared variable
