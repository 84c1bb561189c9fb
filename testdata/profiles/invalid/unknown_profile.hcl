# ARGS: -profile nope
# GLOBAL ERROR: Unknown profile
profile "a" {
  ports_dir  = "ports"
  build_base = "/b"
  ports      = ["misc/hello"]
}
