profile "broken" {
  ports_dir = "ports"
  build_base = /var/tmp # ERROR: Invalid expression
}
