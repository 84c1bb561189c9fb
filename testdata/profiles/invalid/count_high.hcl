profile "p" {
  ports_dir  = "ports"
  build_base = "/b"
  ports      = ["misc/hello"]
  workers {
    count = 257 # ERROR: Value out of range
  }
}
