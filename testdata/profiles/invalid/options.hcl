profile "p" {
  ports_dir  = "ports"
  build_base = "/b"

  port "misc/fortune-lite" {
    options_set   = ["LONG", "not-an-option"] # ERROR: Invalid option name
    options_unset = ["LONG"] # ERROR: Option both set and unset
  }
}
