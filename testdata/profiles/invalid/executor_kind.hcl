# Only the temporal executor exists.
profile "p" {
  ports_dir  = "ports"
  build_base = "/b"
  ports      = ["devel/foo"]
  executor "kubernetes" { # ERROR: Unknown executor
  }
}
