# signing_key and signing_command exclude each other.
profile "p" {
  ports_dir  = "ports"
  build_base = "/b"
  ports      = ["devel/foo"]
  repository {
    signing_key     = "/etc/ssl/repo.key"
    signing_command = "ssh signer sign" # ERROR: Conflicting signing methods
  }
}
