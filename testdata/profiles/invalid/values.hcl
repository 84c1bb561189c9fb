# Sizes, durations and numbers that do not parse or are out of range.
profile "p" {
  ports_dir  = "ports"
  build_base = "/b"
  ports      = ["misc/hello"]

  workers {
    count           = 0 # ERROR: Value out of range
    max_jobs        = 1025 # ERROR: Value out of range
    nice            = 1.5 # ERROR: Invalid number
    tmpfs_work      = "8 gigs" # ERROR: Invalid size
    tmpfs_localbase = "-1g" # ERROR: Invalid size
    phase_timeout   = "4 hours" # ERROR: Invalid duration
    idle_timeout    = 30 # ERROR: Invalid duration
  }
}
