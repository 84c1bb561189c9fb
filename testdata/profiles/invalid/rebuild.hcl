# rebuild takes one of the policies.
profile "p" {
  ports_dir  = "ports"
  build_base = "/b"
  ports      = ["devel/foo"]
  rebuild    = "sometimes" # ERROR: Invalid rebuild policy
}
