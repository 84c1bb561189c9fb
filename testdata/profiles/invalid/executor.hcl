# The executor block: one, of kind temporal, with sane addresses.
profile "p" {
  ports_dir  = "ports"
  build_base = "/b"
  ports      = ["devel/foo"]
  executor "temporal" {
    address           = "no-port" # ERROR: Invalid executor setting
    url               = "ftp://x" # ERROR: Invalid executor setting
    heartbeat_timeout = "2h" # ERROR: Value out of range
    retries           = 3 # ERROR: Unsupported argument
    tls { # ERROR: Incomplete tls block
      cert_file = "client.crt"
    }
  }
  executor "kubernetes" { # ERROR: Duplicate executor block
  }
}
