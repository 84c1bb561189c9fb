# Only what is required: every default is filled in.
profile "min" {
  ports_dir  = "ports"
  build_base = "/var/tmp/dsynth"
  ports      = ["misc/hello"]
}
