profile "empty" { # ERROR: No ports to build
  ports_dir  = "ports"
  build_base = "/b"
  ports      = []
}
