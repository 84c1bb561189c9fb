profile "p" {
  ports_dir  = "ports"
  build_base = "/b"
  ports      = ["misc/hello"]
  make_conf  = { "A=B" = "c" } # ERROR: Invalid variable name
  port "misc/hello" {
    make_env = { "" = "x" } # ERROR: Invalid variable name
  }
  environment {
    env = { "NL\nZ" = "3", OK = "nul\u0000" } # ERROR: Invalid variable name # ERROR: Invalid variable value
  }
}
