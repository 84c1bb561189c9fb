# Values of the wrong type.
profile "p" {
  ports_dir      = ["ports"] # ERROR: Incorrect attribute value type
  build_base     = "/b"
  ports          = "misc/hello" # ERROR: Incorrect attribute value type
  tests          = "maybe" # ERROR: Incorrect attribute value type
  make_conf      = ["A=1"] # ERROR: Incorrect attribute value type
  package_suffix = 3 # ERROR: Invalid package suffix

  port "misc/hello" {
    options_set = "DOCS" # ERROR: Incorrect attribute value type
    make_env    = { CFLAGS = ["-O2"] } # ERROR: Incorrect attribute value type
  }

  workers {
    count      = "many" # ERROR: Incorrect attribute value type
    max_jobs   = true # ERROR: Incorrect attribute value type
    tmpfs_work = ["8g"] # ERROR: Incorrect attribute value type
  }

  environment {
    env = "LANG=C" # ERROR: Incorrect attribute value type
    mount "/usr/src" {
      readonly = "sure" # ERROR: Incorrect attribute value type
    }
  }
}
