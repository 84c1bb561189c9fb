# Values outside their allowed set.
profile "p" {
  ports_dir      = "ports"
  build_base     = "/b"
  ports          = ["misc/hello"]
  package_suffix = ".zip" # ERROR: Invalid package suffix
  make_command   = "" # ERROR: Invalid make command
  system_dir     = "" # ERROR: Invalid path

  environment {
    isolation = "jail" # ERROR: Invalid isolation
    network   = "internet" # ERROR: Invalid network mode
  }
}
