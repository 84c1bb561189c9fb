# The hooks block: program paths and a bounded timeout.
profile "p" {
  ports_dir  = "ports"
  build_base = "/b"
  ports      = ["devel/foo"]
  hooks {
    run_start   = "/usr/local/etc/dsynth/hook_run_start"
    pkg_success = "hooks/success"
    pkg_failure = ["x"] # ERROR: Incorrect attribute value type
    run_end     = "" # ERROR: Invalid path
    timeout     = "2h" # ERROR: Value out of range
    on_reboot   = "/x" # ERROR: Unsupported argument
  }
  hooks { # ERROR: Duplicate hooks block
  }
}
