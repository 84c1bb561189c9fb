base    = "/var/tmp/dsynth-full"
workers = 5
debug   = true
