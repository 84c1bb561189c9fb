# Errors in every profile are reported, not only in the selected one.
# ARGS: -profile good
profile "good" {
  ports_dir  = "ports"
  build_base = "/b"
  ports      = ["misc/hello"]
}

profile "bad" {
  ports_dir  = "ports"
  build_base = "/b"
  ports      = ["hello"] # ERROR: Invalid origin
}
