# ports_dir and build_base are required.
profile "p" { # ERROR: Missing required argument # ERROR: Missing required argument
  ports = ["misc/hello"]
}
