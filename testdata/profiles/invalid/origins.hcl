# Origins are category/port[@flavor] or "all".
profile "p" {
  ports_dir  = "ports"
  build_base = "/b"
  ports = [
    "misc/hello",
    "hello", # ERROR: Invalid origin
    "misc/hello@", # ERROR: Invalid origin
    "misc/hello/extra", # ERROR: Invalid origin
    "textproc/wc2@color",
  ]
  ports_file = "origins.ports"

  port "misc" { # ERROR: Invalid origin
  }
}
