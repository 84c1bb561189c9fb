# The repository block: one signing method, a one-line command.
profile "p" {
  ports_dir  = "ports"
  build_base = "/b"
  ports      = ["devel/foo"]
  repository {
    publish_after_run = "sometimes" # ERROR: Incorrect attribute value type
    signing_key       = "" # ERROR: Invalid path
    signing_command   = "  " # ERROR: Invalid signing command
    mirror            = "x" # ERROR: Unsupported argument
  }
  repository { # ERROR: Duplicate repository block
  }
}
