# What dsynth writes (or scans whole) may not be the root folder.
profile "p" {
  ports_dir    = "/" # ERROR: Invalid path
  build_base   = "/b"
  packages_dir = "/" # ERROR: Invalid path
  logs_dir     = "/tmp/../" # ERROR: Invalid path
  records      = "/b/records.db"
  system_dir   = "/"
  ports        = ["misc/hello"]
}
