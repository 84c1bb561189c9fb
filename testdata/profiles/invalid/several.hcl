# Several profiles and no -profile.
profile "a" {
  ports_dir  = "ports"
  build_base = "/b"
  ports      = ["misc/hello"]
}

profile "b" { # ERROR: Several profiles: choose one with -profile
  ports_dir  = "ports"
  build_base = "/b"
  ports      = ["misc/hello"]
}
